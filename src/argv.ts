/**
 * Make commands copied from GitLab's docs work: `gitlab:smtp:secret:edit` becomes `smtp edit`,
 * `gitlab:redis:secret:show[cache]` becomes `redis show cache`, and `EDITOR=vim` sets the variable.
 */
export function rewriteRakeArguments(argv: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const args: string[] = [];
  for (const arg of argv) {
    const assignment = /^([A-Z][A-Z0-9_]*)=(.*)$/s.exec(arg);
    const rake = /^gitlab:([a-z_]+):secret:([a-z]+)(?:\[([^\]]*)\])?$/.exec(arg);
    if (assignment) env[assignment[1]!] = assignment[2]!;
    else if (rake) args.push(rake[1]!, rake[2]!, ...(rake[3] ? [rake[3]] : []));
    else args.push(arg);
  }
  return args;
}
