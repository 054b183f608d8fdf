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
  /** The key in gitlab.yml that overrides the file path: [section, key]. */
  readonly settingPath: readonly [string, string];
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
  },
  {
    name: 'service-desk-email',
    aliases: ['service_desk_email'],
    rakeName: 'service_desk_email',
    fileName: 'service_desk_email.yaml.enc',
    settingPath: ['service_desk_email', 'encrypted_secret_file'],
    displayName: 'SERVICE_DESK_EMAIL',
    template: EMAIL_TEMPLATE,
  },
  {
    name: 'incoming-email',
    aliases: ['incoming_email'],
    rakeName: 'incoming_email',
    fileName: 'incoming_email.yaml.enc',
    settingPath: ['incoming_email', 'encrypted_secret_file'],
    displayName: 'INCOMING_EMAIL',
    template: EMAIL_TEMPLATE,
  },
  {
    name: 'ldap',
    aliases: [],
    rakeName: 'ldap',
    fileName: 'ldap.yaml.enc',
    settingPath: ['ldap', 'secret_file'],
    displayName: 'LDAP',
    template: "# main:\n#   password: '123'\n#   bind_dn: 'gitlab-adm'\n",
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
