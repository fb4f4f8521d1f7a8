import { makeSpec, modelFacts, VARIANT_NAMES, VARIANTS } from '../../common/efficientnet/index.ts';
import { parseOptions, writeJson, type Command } from '../command.ts';
import { formatCount, formatTable } from '../terminal.ts';

export function variantTable() {
  return VARIANT_NAMES.map((name) => {
    const row = VARIANTS[name];
    const facts = modelFacts(makeSpec(name));
    return {
      name,
      phi: row.phi,
      width: row.width,
      depth: row.depth,
      resolution: row.resolution,
      dropout: row.dropout,
      totalParams: facts.totalParams,
      trainableParams: facts.trainableParams,
      nonTrainableParams: facts.nonTrainableParams,
      macs: facts.macs,
      paperTop1: row.paperTop1,
      paperTop5: row.paperTop5,
    };
  });
}

export const variantsCommand: Command = {
  name: 'variants',
  summary: 'The EfficientNet B0–B7 table: coefficients, resolution, parameters, MACs, paper accuracy.',
  usage: `Usage: effnet variants [--json]

  --json   one object per variant: name, phi, width, depth, resolution, dropout,
           totalParams, trainableParams, nonTrainableParams, macs, paperTop1, paperTop5

Parameters count the 1000-class ImageNet top as keras.applications does; MACs are multiply-adds
of every convolution and dense layer for one image at the variant's resolution.`,
  async run(args, io) {
    const { values } = parseOptions(args, { json: { type: 'boolean' } }, false);
    const table = variantTable();
    if (values.json) {
      writeJson(io, table);
      return 0;
    }
    io.stdout.write(
      formatTable(
        ['variant', 'φ', 'width', 'depth', 'res', 'dropout', 'params', 'MACs', 'top-1 (paper)'],
        table.map((v) => [
          v.name.toUpperCase(),
          String(v.phi),
          v.width.toFixed(1),
          v.depth.toFixed(1),
          String(v.resolution),
          v.dropout.toFixed(1),
          formatCount(v.totalParams),
          formatCount(v.macs),
          `${v.paperTop1.toFixed(1)}%`,
        ]),
        [false, true, true, true, true, true, true, true, true],
      ),
    );
    return 0;
  },
};
