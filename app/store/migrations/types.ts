/** One schema step. Released migrations never change: a fix is a new migration. */
export interface Migration {
  /** Short description, shown in errors when the migration fails. */
  readonly name: string;
  /** Runs in one transaction, with foreign keys checked before it commits. */
  readonly sql: string;
}
