import path from 'node:path';

/** Points Keel at this sample's settings.yml unless KEEL_CONFIG_FILE says otherwise. */
export function useSampleSettings(): void {
  process.env.KEEL_CONFIG_FILE ??= path.join(__dirname, 'settings.yml');
}
