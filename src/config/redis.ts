import { join } from 'node:path';
import { dig, readYamlFile } from './yaml_file.ts';

/**
 * The `secret_file` a Redis instance's configuration names, as Gitlab::Redis::Wrapper#fetch_config
 * finds that configuration: the first present of config/redis.yml `<env>.<instance>`,
 * config/redis.<instance>.yml `<env>` and config/resque.yml `<env>`. Undefined when it names none.
 */
export function redisSecretFile(root: string, environment: string, instance: string, env: NodeJS.ProcessEnv): string | undefined {
  const read = (name: string): unknown => readYamlFile(join(root, 'config', name), { erb: true, env });
  const sources = [
    () => dig(read('redis.yml'), environment, instance),
    () => dig(read(`redis.${instance}.yml`), environment),
    () => dig(read('resque.yml'), environment),
  ];
  for (const source of sources) {
    const config = source();
    if (config === undefined || config === null) continue;
    const secretFile = dig(config, 'secret_file');
    return typeof secretFile === 'string' && secretFile.trim() !== '' ? secretFile : undefined;
  }
  return undefined;
}
