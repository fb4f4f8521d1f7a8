export * from './blocks.ts';
export * from './scaling.ts';
export * from './variants.ts';
export * from './spec.ts';
export * from './architecture.ts';
export * from './facts.ts';
