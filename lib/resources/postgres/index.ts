export {
  PostgresResource,
  Transaction,
  type Queryable,
  type QueryOptions,
  type QueryResult,
  type Row,
  type IsolationLevel,
  type TransactionOptions,
} from './resource';
export { PostgresError, type PostgresErrorCode } from './errors';
export { postgresSchema, type PostgresSettings, type RequestContextMode } from './settings';
