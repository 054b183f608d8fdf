import { UsageError } from './errors.ts';

/**
 * GitLab's encrypted-settings namespaces, one row each (SPEC §1). Everything the commands need to know
 * about a namespace is here; the handlers are shared.
 */
export interface Namespace {
  /** The CLI name: `gitlab-secrets <name> show`. */
  readonly name: string;
  /** Other accepted names, e.g. the underscored rake form. */
  readonly aliases: readonly string[];
  /** The namespace in the rake task name: `gitlab:<rakeName>:secret:show`. */
  readonly rakeName: string;
  /** The default file name in the encrypted settings directory. */
  readonly fileName: string;
  /** The key in gitlab.yml that overrides the file path: [section, key]. Null for Redis, whose instances say. */
  readonly settingPath: readonly [string, string] | null;
  /** Redis only: commands take an instance name, whose config may name the file (SPEC §5). */
  readonly instances: { readonly names: readonly string[]; readonly default: string } | null;
  /** DISPLAY_NAME of GitLab's command class, used in the content WARNING. */
  readonly displayName: string;
  /** The buffer a new file starts from in `edit` (GitLab's encrypted_file_template), exact bytes. */
  readonly template: string;
}

const EMAIL_TEMPLATE = "# password: '123'\n# user: 'gitlab-incoming@gmail.com'\n";

export const NAMESPACES: readonly Namespace[] = [
  {
    name: 'smtp',
    aliases: [],
    rakeName: 'smtp',
    fileName: 'smtp.yaml.enc',
    settingPath: ['gitlab', 'email_smtp_secret_file'],
    displayName: 'SMTP',
    template: "# password: '123'\n# user_name: 'gitlab-inst'\n",
    instances: null,
  },
  {
    name: 'service-desk-email',
    aliases: ['service_desk_email'],
    rakeName: 'service_desk_email',
    fileName: 'service_desk_email.yaml.enc',
    settingPath: ['service_desk_email', 'encrypted_secret_file'],
    displayName: 'SERVICE_DESK_EMAIL',
    template: EMAIL_TEMPLATE,
    instances: null,
  },
  {
    name: 'incoming-email',
    aliases: ['incoming_email'],
    rakeName: 'incoming_email',
    fileName: 'incoming_email.yaml.enc',
    settingPath: ['incoming_email', 'encrypted_secret_file'],
    displayName: 'INCOMING_EMAIL',
    template: EMAIL_TEMPLATE,
    instances: null,
  },
  {
    name: 'ldap',
    aliases: [],
    rakeName: 'ldap',
    fileName: 'ldap.yaml.enc',
    settingPath: ['ldap', 'secret_file'],
    displayName: 'LDAP',
    template: "# main:\n#   password: '123'\n#   bind_dn: 'gitlab-adm'\n",
    instances: null,
  },
  {
    name: 'redis',
    aliases: [],
    rakeName: 'redis',
    fileName: 'redis.yaml.enc',
    settingPath: null,
    displayName: 'Redis',
    template: "# password: '123'\n",
    // GitLab's Gitlab::Redis::ALL_CLASSES, in their config-file (underscored) form.
    instances: {
      names: [
        'buffered_counter', 'cache', 'cluster_sessions', 'db_load_balancing', 'feature_flag', 'queues',
        'queues_metadata', 'rate_limiting', 'repository_cache', 'sessions', 'shared_state', 'trace_chunks',
        'chat', 'workhorse',
      ],
      default: 'cache',
    },
  },
];

export class UnknownNamespaceError extends UsageError {
  constructor(name: string) {
    super(`Unknown namespace '${name}'. Available: ${NAMESPACES.map((ns) => ns.name).join(', ')}.`);
  }
}

/** The namespace called `name` (its CLI name, an alias or its rake name). */
export function namespaceByName(name: string): Namespace {
  const found = NAMESPACES.find((ns) => ns.name === name || ns.rakeName === name || ns.aliases.includes(name));
  if (!found) throw new UnknownNamespaceError(name);
  return found;
}

/** The form GitLab compares instance names in: lowercase, without `-`, `_` or spaces (`SharedState`). */
const squash = (name: string): string => name.toLowerCase().replace(/[-_ ]/g, '');

/** GitLab: Gitlab::EncryptedRedisCommand.encrypted_secrets. */
export class UnknownInstanceError extends UsageError {
  constructor(name: string, names: readonly string[]) {
    super(`Specified instance name ${name} does not exist.\nThe available instances are ${names.map(squash).join(', ')}.`);
  }
}

/** The underscored instance name for a name given in any case, with or without separators. */
export function instanceByName(namespace: Namespace, name: string | undefined): string | undefined {
  if (!namespace.instances) {
    if (name !== undefined) throw new UsageError(`${namespace.name} takes no instance name (got '${name}').`);
    return undefined;
  }
  if (name === undefined) return namespace.instances.default;
  const found = namespace.instances.names.find((candidate) => squash(candidate) === squash(name));
  if (!found) throw new UnknownInstanceError(name, namespace.instances.names);
  return found;
}
