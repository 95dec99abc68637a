export { SettingsProvider, settingsSchema, type SettingsHealth } from './provider';
export {
  EtcdSettingsSource,
  type EtcdChange,
  type EtcdProgress,
  type EtcdWatchHealth,
  type EtcdWatchListener,
} from './etcd-source';
export { createEtcdClient, callDeadline, describeHosts } from './etcd-client';
export { MAX_TIMER_MS, isTimerMs } from './formats';
export { defineSettings, type SettingsOf, type SettingsLeafSchema, type SettingsSchemaShape } from './schema';
export { SettingsError, type SettingsErrorCode, type SettingsIssue } from './errors';
export { isSecretKey, maskText, redact, redactUrl, REDACTED, SECRET_KEY } from './redact';
export {
  etcdOptionsFromEnv,
  normalizePrefix,
  DEFAULT_ETCD_PREFIX,
  type EtcdConnectionOptions,
} from './etcd-options';
export type {
  SettingsLoadOptions,
  SettingsRule,
  SettingsSchema,
  SettingsScope,
  SettingsAt,
  SettingsPath,
  SettingsView,
  Unsubscribe,
} from './types';
