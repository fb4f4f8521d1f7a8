// tfjs-node 4.22 calls `util.isNullOrUndefined`, `util.isArray` … which Node 23 removed: on Node ≥ 23
// every op throws `TypeError: (0, util_1.isNullOrUndefined) is not a function` (tensorflow/tfjs#8609,
// #8746; the fix, #8425, was merged but never released). Its compiled CommonJS looks the function up
// on the `util` exports object at call time, so defining the missing ones on that object before
// tfjs-node is imported is enough. Functions Node still has are left alone.
import { Buffer } from 'node:buffer';
import { syncBuiltinESMExports } from 'node:module';
import util from 'node:util';

/** Node's own definitions (lib/util.js before removal), so behaviour is unchanged where they exist. */
export const REMOVED_UTIL_FUNCTIONS: Readonly<Record<string, (value: unknown) => boolean>> = {
  isArray: (value) => Array.isArray(value),
  isBoolean: (value) => typeof value === 'boolean',
  isBuffer: (value) => Buffer.isBuffer(value),
  isDate: (value) => util.types.isDate(value),
  isError: (value) => Object.prototype.toString.call(value) === '[object Error]' || value instanceof Error,
  isFunction: (value) => typeof value === 'function',
  isNull: (value) => value === null,
  isNullOrUndefined: (value) => value === null || value === undefined,
  isNumber: (value) => typeof value === 'number',
  isObject: (value) => value !== null && typeof value === 'object',
  isPrimitive: (value) => value === null || (typeof value !== 'object' && typeof value !== 'function'),
  isRegExp: (value) => util.types.isRegExp(value),
  isString: (value) => typeof value === 'string',
  isSymbol: (value) => typeof value === 'symbol',
  isUndefined: (value) => value === undefined,
};

/**
 * Defines each removed `util.is*` function that `target` lacks; returns the names it defined (empty on
 * Node ≤ 22). `target` is the real `node:util` exports object unless a test passes its own.
 */
export function installNodeUtilShim(target: object = util): string[] {
  const record = target as Record<string, unknown>;
  const installed: string[] = [];
  for (const [name, implementation] of Object.entries(REMOVED_UTIL_FUNCTIONS)) {
    if (typeof record[name] === 'function') continue;
    Object.defineProperty(target, name, { value: implementation, writable: true, configurable: true, enumerable: true });
    installed.push(name);
  }
  // ESM `import { isArray } from 'node:util'` reads a snapshot of the exports; refresh it too.
  if (installed.length > 0 && target === util) syncBuiltinESMExports();
  return installed;
}
