/**
 * RFC 4180 CSV/TSV parsing with line numbers for error messages: quoted fields, "" escapes, line
 * breaks inside quotes, CRLF or LF, a UTF-8 byte-order mark (Excel writes one), blank lines skipped.
 */

export interface CsvRow {
  /** 1-based line on which the row starts. */
  readonly line: number;
  readonly fields: string[];
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvSyntaxError';
  }
}

export function parseDelimited(text: string, delimiter: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  while (i < input.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (input[i] === '"') {
        i++;
        for (;;) {
          if (i >= input.length) throw new CsvSyntaxError(start, 'a quoted field is never closed (missing ")');
          const char = input[i]!;
          if (char === '"' && input[i + 1] === '"') {
            field += '"';
            i += 2;
          } else if (char === '"') {
            i++;
            break;
          } else {
            if (char === '\n') line++;
            field += char;
            i++;
          }
        }
        const next = input[i];
        if (next !== undefined && next !== delimiter && next !== '\n' && next !== '\r') {
          throw new CsvSyntaxError(line, `unexpected text after a closing quote: ${JSON.stringify(input.slice(i, i + 10))}`);
        }
      } else {
        while (i < input.length && input[i] !== delimiter && input[i] !== '\n' && input[i] !== '\r') field += input[i++];
      }
      fields.push(field);
      if (input[i] === delimiter) {
        i++;
        continue;
      }
      if (input[i] === '\r') i++;
      if (input[i] === '\n') i++;
      line++;
      break;
    }
    if (!(fields.length === 1 && fields[0]!.trim() === '')) rows.push({ line: start, fields });
  }
  return rows;
}
