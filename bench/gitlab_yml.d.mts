/** A gitlab.yml the size and shape of GitLab's gitlab.yml.example (~1,700 lines, ~70 kB). */
export function makeGitlabYml(): string;
