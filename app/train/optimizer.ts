import * as tf from '@tensorflow/tfjs';
import { AppError } from '../common/errors.ts';
import type { OptimizerName } from '../common/train-config.ts';

/**
 * Adam, AdamW and SGD with momentum, written out rather than taken from tf.train: the learning rate
 * changes every step (tfjs' Adam caches it, SGD keeps it in a scalar tensor), AdamW's decoupled
 * weight decay does not exist in tfjs, and the state must round-trip through checkpoints keyed by
 * weight name (tfjs' optimizers pair their slots with variables by position only).
 *
 * Formulas follow PyTorch (torch.optim.Adam/AdamW/SGD), which the AdamW paper's Algorithm 2
 * (Loshchilov & Hutter 2019) matches: bias-corrected moments, ε added to √v̂, decoupled decay
 * w ← w − lr·λ·w for AdamW, and L2 (g ← g + λ·w) for Adam and SGD.
 */

export interface OptimizerSettings {
  readonly name: OptimizerName;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly momentum: number;
  readonly nesterov: boolean;
}

/** A trainable weight: its checkpoint name (the layer weight's name, e.g. `stem_conv/kernel`) and variable. */
export interface TrainableWeight {
  readonly name: string;
  readonly variable: tf.Variable;
  /** Weight decay applies (kernels); biases, BatchNorm γ/β and other vectors are left alone, as timm does. */
  readonly decay: boolean;
}

/** Serialisable optimizer state: slot tensors by weight name, values concatenated in `data`. */
export interface OptimizerState {
  readonly name: OptimizerName;
  readonly step: number;
  readonly slots: readonly { readonly weight: string; readonly slot: string; readonly shape: readonly number[] }[];
  readonly data: Float32Array;
}

export class Optimizer {
  /** Optimizer steps taken (Adam's t). */
  private step = 0;
  private readonly slots = new Map<string, tf.Variable>();

  constructor(readonly settings: OptimizerSettings) {}

  get steps(): number {
    return this.step;
  }

  private slotNames(): readonly string[] {
    return this.settings.name === 'sgd' ? (this.settings.momentum > 0 ? ['momentum'] : []) : ['m', 'v'];
  }

  /** The slot variable, created as zeros on first use (`fresh`). */
  private slot(weight: TrainableWeight, name: string): { variable: tf.Variable; fresh: boolean } {
    const key = `${weight.name}/${name}`;
    const existing = this.slots.get(key);
    if (existing) return { variable: existing, fresh: false };
    const variable = tf.variable(tf.zerosLike(weight.variable), false);
    this.slots.set(key, variable);
    return { variable, fresh: true };
  }

  /** One update of every weight with its gradient (same order) at `learningRate`. */
  apply(weights: readonly TrainableWeight[], gradients: readonly tf.Tensor[], learningRate: number): void {
    if (weights.length !== gradients.length) throw new Error(`optimizer: ${weights.length} weights but ${gradients.length} gradients`);
    this.step += 1;
    const { name, weightDecay, beta1, beta2, epsilon, momentum, nesterov } = this.settings;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    weights.forEach((weight, i) => {
      const w = weight.variable;
      const decay = weight.decay ? weightDecay : 0;
      tf.tidy(() => {
        let g = gradients[i]!;
        if (decay > 0 && name !== 'adamw') g = tf.add(g, tf.mul(w, decay));
        if (name === 'sgd') {
          let update = g;
          if (momentum > 0) {
            const { variable: buffer, fresh } = this.slot(weight, 'momentum');
            // PyTorch starts the buffer at the first gradient instead of decaying from zero.
            const next = fresh ? g : tf.add(tf.mul(buffer, momentum), g);
            buffer.assign(next);
            update = nesterov ? tf.add(g, tf.mul(next, momentum)) : next;
          }
          w.assign(tf.sub(w, tf.mul(update, learningRate)));
          return;
        }
        const m = this.slot(weight, 'm').variable;
        const v = this.slot(weight, 'v').variable;
        const nextM = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const nextV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(nextM);
        v.assign(nextV);
        const denominator = tf.add(tf.sqrt(tf.div(nextV, correction2)), epsilon);
        let next = tf.sub(w, tf.mul(tf.div(nextM, denominator), learningRate / correction1));
        if (decay > 0) next = tf.sub(next, tf.mul(w, learningRate * decay));
        w.assign(next);
      });
    });
  }

  async getState(weights: readonly TrainableWeight[]): Promise<OptimizerState> {
    const slots: { weight: string; slot: string; shape: number[] }[] = [];
    const parts: Float32Array[] = [];
    for (const weight of weights) {
      for (const name of this.slotNames()) {
        const variable = this.slots.get(`${weight.name}/${name}`);
        if (!variable) continue;
        slots.push({ weight: weight.name, slot: name, shape: [...variable.shape] });
        parts.push((await variable.data()) as Float32Array);
      }
    }
    const data = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
    let offset = 0;
    for (const part of parts) {
      data.set(part, offset);
      offset += part.length;
    }
    return { name: this.settings.name, step: this.step, slots, data };
  }

  /** Restores a state saved by getState for the same weights; `source` names the file for errors. */
  setState(state: OptimizerState, weights: readonly TrainableWeight[], source: string): void {
    if (state.name !== this.settings.name) {
      throw new AppError('checkpoint-mismatch', `${source} holds ${state.name} optimizer state, but the run uses ${this.settings.name}.`, {
        hint: 'Resume with the optimizer the run was started with.',
      });
    }
    const byName = new Map(weights.map((weight) => [weight.name, weight]));
    let offset = 0;
    this.disposeSlots();
    for (const entry of state.slots) {
      const weight = byName.get(entry.weight);
      const size = entry.shape.reduce((a, b) => a * b, 1);
      if (!weight || !tf.util.arraysEqual(weight.variable.shape, [...entry.shape]) || offset + size > state.data.length) {
        this.disposeSlots();
        throw new AppError(
          'checkpoint-mismatch',
          `${source}: optimizer slot ${entry.weight}/${entry.slot} does not match the model's trainable weights.`,
          {
            hint: 'The checkpoint was written for another model or training mode; resume with the same config.',
          },
        );
      }
      const values = state.data.subarray(offset, offset + size);
      this.slots.set(`${entry.weight}/${entry.slot}`, tf.variable(tf.tensor(values, [...entry.shape]), false));
      offset += size;
    }
    this.step = state.step;
  }

  private disposeSlots(): void {
    for (const variable of this.slots.values()) variable.dispose();
    this.slots.clear();
  }

  dispose(): void {
    this.disposeSlots();
  }
}
