/**
 * Keep a key or a secret value out of an error message about the key file (issue 10 §10): a typo such as
 * `encrypted_settings_key_base: *<key>` made Psych's "Unknown alias: <key>" print the whole key.
 *
 * The YAML errors that quote their input are Psych's, not libyaml's: "Unknown alias: <name>", "Tried to
 * load unspecified class: <tag>", "invalid value for Integer(): \"<text>\"" and Float(), "can't convert
 * <text> into Float", "unknown encoding name - <text>", "cannot load a <class> from YAML", "'<name>' is
 * not allowed as an instance variable name", "can't modify frozen <class>", "could not load the YAML:
 * <message>". libyaml's syntax errors are fixed phrases with a position. So a reason is kept only when
 * every word of it is a word of libyaml's (and our limits') fixed messages, which no quoting reason is:
 * each has a word of its own ("alias:", "Tried", "Integer():", "encoding", "load", "instance", "frozen"…).
 */
const LIBYAML_WORDS = new Set(
  (
    'a an and any are as at be block break by cannot character characters collection collections comment ' +
    'complex content context control copied could did digit directive document duplicate end entries ' +
    'equal escape expected extremely find flow for found hexdecimal implicit in incompatible incomplete ' +
    'incorrect indentation indicator input invalid is key leading length limit line libyaml long longer ' +
    'mapping merge more name nests node not number numeric octet of or parsing plain quoted scalar ' +
    'scanning sequence simple space start stream tab tag than that the this to token too trailing ' +
    'undefined unexpected unknown uri values violates where while whitespace yaml document utf-8 unicode ' +
    'version keys alphabetic handle %yaml %tag deep next allowed code anchor ' +
    // js-yaml's fixed messages, which the scanner reports until it is libyaml's own
    'accepts after argument arguments bad between chomping comma contain contains deficient directives ' +
    'double duplication entry exactly exclamation explicit first have ill-formed json key-value least less ' +
    'marks may missed mode multiline must named non-printable one prefix properties property read repeat ' +
    'second separator should single such suffix two unacceptable used valid verbatim width within hexadecimal'
  ).split(' '),
);

/** Punctuation that libyaml quotes around an indicator, as whole words: `':'`, `','`, `'<<'`… */
const INDICATOR = /^[(]?'[^\w\s]{1,3}'[),;]?$/;

/** The reason when it quotes nothing of the input, else undefined. */
export function safeYamlReason(reason: string): string | undefined {
  const words = reason.split(/\s+/).filter((word) => word !== '');
  const safe = words.every((word) => {
    if (INDICATOR.test(word) || /^\d+$/.test(word)) return true;
    const bare = word.replace(/^[(<]+|[)>,.;]+$/g, '').toLowerCase();
    return LIBYAML_WORDS.has(bare) || /^\d+$/.test(bare);
  });
  return safe ? reason : undefined;
}
