export { KeelError } from './keel-error';
export { ERROR_CODES, errorCodeInfo, type CodesOf, type ErrorCodeInfo, type KeelErrorCode } from './codes';
export { requirePeer } from './peer';
