export {
  toJsonSchema,
  type Infer,
  type MessageOf,
  type JsonSchemaObject,
  type Schema,
  type StandardJsonSchema,
} from './schema';
export { ContractError, type ContractErrorCode, type Problem } from './errors';
export { MAX_LISTED_PROBLEMS, type UnknownProperties } from './validator';
export {
  PROBLEM_CONTENT_TYPE,
  validationProblem,
  type RequestPart,
  type RequestProblem,
  type ValidationProblemDocument,
} from './problem';
export {
  compileMessageCheck,
  describeProblems,
  requireValidMessage,
  type MessageCheck,
  type MessageCheckResult,
} from './message';
export { SchemaCompiler, type Check, type CheckMode, type CheckResult } from './validator';
export {
  asyncApiDocument,
  asyncApiIdentifier,
  asyncApiMessage,
  type AsyncApiDocument,
  type AsyncApiParts,
} from './asyncapi';
