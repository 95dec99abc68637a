export { SettingsProvider } from './provider';
export { defineSettings, type SettingsOf, type SettingsLeafSchema, type SettingsSchemaShape } from './schema';
export { SettingsError, type SettingsErrorCode, type SettingsIssue } from './errors';
export { redact, REDACTED, SECRET_KEY } from './redact';
export { etcdOptionsFromEnv, type EtcdConnectionOptions } from './etcd-options';
export type { SettingsLoadOptions, SettingsSchema, SettingsScope, SettingsView, Unsubscribe } from './types';
