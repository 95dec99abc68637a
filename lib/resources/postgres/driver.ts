import type * as Pg from 'pg';
import { requirePeer } from '../../errors/peer';
import { PostgresError } from './errors';

export type PgModule = typeof Pg;

let loaded: PgModule | undefined;

export function loadPg(resource: string): PgModule {
  loaded ??= requirePeer<PgModule>(
    'pg',
    (cause) =>
      new PostgresError(
        'POSTGRES_MISSING_DEPENDENCY',
        `PostgresResource '${resource}' needs the package pg, which is not installed: npm install pg`,
        { cause },
      ),
  );
  return loaded;
}
