import { Etcd3 } from 'etcd3';
import type { EtcdMember } from './etcd';

/** A plain etcd3 client for tests to write keys as an operator would; callers close it. */
export function etcdClient(
  members: readonly EtcdMember[],
  auth?: { username: string; password: string },
): Etcd3 {
  return new Etcd3({ hosts: members.map((member) => member.endpoint), auth });
}

/** Puts a settings leaf the way `keel settings push` stores it: one key, a JSON value. */
export async function putSetting(client: Etcd3, prefix: string, path: string, value: unknown): Promise<void> {
  await client.put(prefix + path.split('.').join('/')).value(JSON.stringify(value));
}

/** `putSetting`, retried: a write right after losing a member can land mid-election; an operator would retry it too. */
export async function putSettingEventually(
  client: Etcd3,
  prefix: string,
  path: string,
  value: unknown,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await putSetting(client, prefix, path, value);
      return;
    } catch (error) {
      if (attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
