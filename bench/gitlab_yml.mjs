// A gitlab.yml the size and shape of GitLab's config/gitlab.yml.example (source installs copy it):
// ~1,700 lines and ~70 kB, a `production: &base` section of many subsections with comments
// everywhere, ERB `<%= ENV[...] %>` lines, lists of providers and servers, anchors, merge keys
// (`<<: *base`), duplicate keys, and development/test/staging sections that merge production.
// The encrypted settings keep their default place, so `show` finds them as with the demo tree.
//
// Run it to print the file: node bench/gitlab_yml.mjs > gitlab.yml

const WORDS = ['enabled', 'host', 'port', 'path', 'timeout', 'interval', 'limit', 'label', 'url', 'size', 'retries', 'mode'];

function comment(indent, i) {
  return `${indent}# ${[
    'Set this to true to turn the feature on; it needs a restart of Puma and Sidekiq.',
    'Default: see the documentation for the value GitLab uses when this is unset.',
    'ENV overrides are read at boot, so restart after changing the environment.',
    'Uncomment and change the value below if the default does not suit you.',
  ][i % 4]}`;
}

function section(name, index, depth) {
  const lines = [];
  const indent = '  '.repeat(depth);
  lines.push(`${indent}## ${name} settings`, `${indent}# Read https://docs.gitlab.com/ee/administration/${name}.html before changing anything in this section`);
  lines.push(`${indent}${name}:`);
  const inner = `${indent}  `;
  for (let k = 0; k < 14; k++) {
    const word = `${WORDS[k % WORDS.length]}${k >= WORDS.length ? `_${k}` : ''}`;
    if (k % 3 === 0) lines.push(comment(inner, k + index));
    switch (k % 7) {
      case 0:
        lines.push(`${inner}${word}: ${k % 2 === 0 ? 'false' : 'true'} # whether ${name} uses ${word}`);
        break;
      case 1:
        lines.push(`${inner}${word}: "<%= ENV['GITLAB_${name.toUpperCase()}_${k}'] %>"`);
        break;
      case 2:
        lines.push(`${inner}# ${word}: ${index * 100 + k}`, `${inner}${word}: ${index * 100 + k}`);
        break;
      case 3:
        lines.push(`${inner}${word}: /home/git/gitlab/shared/${name}/storage/path/number/${k}`);
        break;
      case 4:
        lines.push(`${inner}${word}:`, `${inner}  - 'first-${k}'`, `${inner}  - second-${k} # a comment about this entry of the list`, `${inner}  - { name: third, value: ${k} }`);
        break;
      case 5:
        lines.push(`${inner}${word}: 'quoted: value ${k}, with more words as real settings have'`);
        break;
      default:
        lines.push(`${inner}${word}: ${k}.5`);
    }
  }
  // A duplicate key, as gitlab.yml.example has a few: the last one wins.
  lines.push(`${inner}enabled: true`);
  lines.push('');
  return lines;
}

export function makeGitlabYml() {
  const lines = [
    '# # # # # # # # # # # # # # # # # #',
    '# GitLab application config file  #',
    '# # # # # # # # # # # # # # # # # #',
    '#',
    '###########################  NOTE  #####################################',
    '# This file should not receive new settings. All configuration options #',
    '# * are being moved to ApplicationSetting model!                        #',
    '########################################################################',
    '',
    'production: &base',
    '  #',
    '  # 1. GitLab app settings',
    '  # ==========================',
    '',
    '  ## GitLab settings',
    '  gitlab: &gitlab_defaults',
    '    ## Web server settings (note: host is the FQDN, do not include http://)',
    "    host: <%= ENV['GITLAB_HOST'] || 'localhost' %>",
    '    port: 80 # Set to 443 if using HTTPS',
    '    https: false # Set to true if using HTTPS',
    '    email_enabled: true',
    "    email_from: example@example.com",
    '    email_display_name: GitLab',
    '    email_reply_to: noreply@example.com',
    '    default_projects_features:',
    '      issues: true',
    '      merge_requests: true',
    '      wiki: true',
    '',
  ];
  let index = 0;
  while (lines.length < 1560) {
    lines.push(...section(`feature_${index}`, index, 1));
    if (index % 5 === 0) {
      lines.push(`  ldap_${index}:`, '    servers:', `      main: &ldap_main_${index}`, "        label: 'LDAP'", "        host: '_your_ldap_server'", '        port: 389');
      lines.push(`      secondary:`, `        <<: *ldap_main_${index}`, "        label: 'Secondary LDAP'", '');
    }
    index++;
  }
  lines.push(
    '',
    'development:',
    '  <<: *base',
    '',
    'test:',
    '  <<: *base',
    '  gravatar:',
    '    enabled: true',
    '  gitlab:',
    '    <<: *gitlab_defaults',
    '    host: localhost',
    '    port: 80',
    '',
    'staging:',
    '  <<: *base',
  );
  while (lines.length < 1700) lines.push(`  # staging note ${lines.length}`);
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(makeGitlabYml());
