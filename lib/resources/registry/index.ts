export { RegistryResource } from './registry';
export { Discovery, type InstancesListener } from './discovery';
export { RegistryError, type RegistryErrorCode } from './errors';
export { registryKey, type RegistryAddress, type RegistryEntry } from './entry';
export {
  DEFAULT_REGISTRY_PREFIX,
  registrySchema,
  discoverySchema,
  type RegistrySettings,
  type DiscoverySettings,
} from './settings';
