// What `vulnvault [COMMAND [SUB]] --help` (or -h, or `vulnvault help …`)
// prints: the usage, the options and an example, before any parsing, so a
// help request never meets a parser error and always exits 0.

interface Help {
  usage: string[];
  about: string;
  options: [string, string][];
  examples: string[];
}

const DIR: [string, string] = ['--dir DIR', 'data directory (default ./.vulnvault)'];
const ADMIN_KEY: [string, string] = [
  '--admin-key FILE',
  'the key-admin private key (default DIR.key-admin/key-admin.pem)',
];
const VERSION: [string, string] = ['--version N', 'the keyring version (see keys status)'];
const PRINCIPAL: [string, string][] = [
  ['--ou OU', 'a certificate OU (mTLS clients)'],
  ['--client CLIENT_ID', 'an OAuth2 client id (bearer tokens)'],
  ['--iam ROLE_ARN', 'an IAM role or user ARN (the AWS_IAM API)'],
];
const SERVE: [string, string][] = [
  DIR,
  ['--host H', 'address to bind (overrides server.host, default 127.0.0.1)'],
  ['--port P', 'port (overrides server.port, default 8443; 0 = any free port)'],
];

const COMMANDS: Record<string, Help> = {
  init: {
    usage: ['init [--dir DIR] [--force] [--admin-key FILE] [--pkcs11 URI]'],
    about:
      'Creates DIR: config, a development PKI (CA, server and two client certificates), the stores,\n' +
      "the reference demo's policy and the keyring. The key-admin private key goes outside DIR.",
    options: [
      DIR,
      ['--force', 'replace DIR if it is a vulnvault directory'],
      [
        '--admin-key FILE',
        'where to write the key-admin private key, outside DIR (default DIR.key-admin/key-admin.pem)',
      ],
      [
        '--pkcs11 URI',
        'generate the CA key, KEK and audit key in this token (pkcs11:token=LABEL?module-path=LIB); PIN from VULNVAULT_PKCS11_PIN',
      ],
    ],
    examples: [
      'vulnvault init',
      'vulnvault init --dir /srv/vulnvault --admin-key ~/vulnvault-key-admin.pem',
      "VULNVAULT_PKCS11_PIN=… vulnvault init --pkcs11 'pkcs11:token=vulnvault?module-path=/usr/lib/softhsm/libsofthsm2.so'",
    ],
  },
  serve: {
    usage: ['serve [--dir DIR] [--host H] [--port P]'],
    about: 'Serves the API over mTLS until SIGTERM or SIGINT, then drains requests and exits 0.',
    options: SERVE,
    examples: ['vulnvault serve --dir /srv/vulnvault --port 8443'],
  },
  start: {
    usage: ['start [--dir DIR] [--host H] [--port P]'],
    about: 'Initialises DIR if it has no config, then serves (what npm start runs).',
    options: SERVE,
    examples: ['vulnvault start', 'vulnvault start --port 0'],
  },
  'pki issue': {
    usage: ['pki issue --name NAME --ou OU --cn CN [--o ORG] [--ttl 24h] [--dir DIR] [--force]'],
    about: "Issues a client certificate signed by DIR's CA into DIR/pki/clients/NAME.crt|key.",
    options: [
      ['--name NAME', 'file name of the certificate and key'],
      ['--ou OU', 'the OU: the principal that policies grant to'],
      ['--cn CN', 'common name'],
      ['--o ORG', 'organisation (default vulnvault-demo)'],
      ['--ttl 24h', 'lifetime (default pki.clientCertTtl; at most tls.maxClientCertLifetime)'],
      DIR,
      ['--force', 'replace an existing certificate of that name'],
    ],
    examples: ['vulnvault pki issue --name scanner-2 --ou scanner-eu --cn nessus-eu-1 --ttl 24h'],
  },
  'pki renew': {
    usage: ['pki renew --name NAME [--ttl 24h] [--dir DIR]'],
    about:
      'Issues a new key and certificate with the same subject; the old one stays valid until it expires.',
    options: [
      ['--name NAME', 'the certificate in DIR/pki/clients'],
      ['--ttl 24h', 'lifetime (default pki.clientCertTtl)'],
      DIR,
    ],
    examples: ['vulnvault pki renew --name customer'],
  },
  'pki revoke': {
    usage: ['pki revoke --name NAME|--serial HEX [--dir DIR]'],
    about:
      'Adds the certificate to the CRL, with every certificate renewed from it over EST;\n' +
      'a running server refuses them within seconds.',
    options: [
      ['--name NAME', 'the certificate in DIR/pki/clients'],
      ['--serial HEX', 'a certificate by serial (one enrolled over EST)'],
      DIR,
    ],
    examples: ['vulnvault pki revoke --name scanner-2'],
  },
  'pki crl': {
    usage: ['pki crl [--dir DIR]'],
    about: 'Re-signs the CRL with a fresh validity (one year), same entries.',
    options: [DIR],
    examples: ['vulnvault pki crl'],
  },
  'pki rotate-server': {
    usage: ['pki rotate-server [--ttl 365d] [--dir DIR]'],
    about: 'Issues a new server key and certificate with the same names; used for new connections.',
    options: [['--ttl 365d', 'lifetime (default 365d)'], DIR],
    examples: ['vulnvault pki rotate-server --ttl 90d'],
  },
  'pki enroll-token': {
    usage: ['pki enroll-token --ou OU --cn CN [--ttl 1h] [--dir DIR]'],
    about:
      'Prints a one-time enrolment token for a client that makes its own key (vulnvault cert enroll,\n' +
      'or any EST client). Bound to OU and CN, single use, expiring; stored hashed (needs pki.est.enabled).',
    options: [
      ['--ou OU', 'the OU (principal) the certificate will carry'],
      ['--cn CN', 'the CN the certificate will carry'],
      ['--ttl 1h', 'how long the token can be used (at most 7d)'],
      DIR,
    ],
    examples: ['vulnvault pki enroll-token --ou scanner --cn nessus-eu-1 --ttl 1h'],
  },
  'pki enroll-tokens': {
    usage: ['pki enroll-tokens [--dir DIR]'],
    about: 'Lists enrolment tokens by id: OU, CN, expiry and whether used (never the tokens).',
    options: [DIR],
    examples: ['vulnvault pki enroll-tokens'],
  },
  'pki revoke-token': {
    usage: ['pki revoke-token --id ID [--dir DIR]'],
    about: 'Revokes an enrolment token by its id (see pki enroll-tokens).',
    options: [['--id ID', 'the token id (et_…)'], DIR],
    examples: ['vulnvault pki revoke-token --id et_1a2b3c4d5e6f'],
  },
  'cert enroll': {
    usage: ['cert enroll --url URL --token T|--token-file F --ca CA --out DIR [--cn CN --ou OU]'],
    about:
      'Makes a key pair here and enrols it over EST (RFC 7030 simpleenroll) with a one-time token;\n' +
      'writes DIR/client.crt, DIR/client.key (0600), DIR/ca.crt and DIR/est.json. The key never leaves.',
    options: [
      ['--url URL', 'the server, e.g. https://vulnvault.example:8443'],
      ['--token T', 'the enrolment token (vulnvault pki enroll-token)'],
      ['--token-file F', 'read the token from a file (keeps it out of shell history)'],
      ['--ca CA', "the server's CA certificate (PEM), given with the token"],
      ['--out DIR', 'the certificate directory to create'],
      ['--cn CN, --ou OU', 'subject to ask for (optional: the token decides it)'],
    ],
    examples: [
      'vulnvault cert enroll --url https://vulnvault.example:8443 --token-file token.txt --ca ca.crt --out /etc/vulnvault/client',
    ],
  },
  'cert renew': {
    usage: ['cert renew --dir DIR [--force]'],
    about:
      'Renews over mutual TLS (EST simplereenroll, a new key) when less than a third of the lifetime\n' +
      'is left; otherwise does nothing and exits 0. Key and certificate are replaced together.',
    options: [
      ['--dir DIR', 'a directory made by cert enroll'],
      ['--force', 'renew now even if not due'],
    ],
    examples: ['vulnvault cert renew --dir /etc/vulnvault/client'],
  },
  'cert watch': {
    usage: ['cert watch --dir DIR [--retry-seconds 60]'],
    about: 'Keeps DIR fresh: renews when due, sleeps until the next due time, retries on failure.',
    options: [
      ['--dir DIR', 'a directory made by cert enroll'],
      ['--retry-seconds 60', 'wait after a failed renewal'],
    ],
    examples: ['vulnvault cert watch --dir /etc/vulnvault/client'],
  },
  'policy grant': {
    usage: [
      'policy grant --ou OU|--client CLIENT_ID|--iam ROLE_ARN --action read|write|triage --org ORG [--dir DIR]',
    ],
    about: 'Grants one principal an action on one org; takes effect on the next request.',
    options: [
      ...PRINCIPAL,
      ['--action read|write|triage', 'findings:read, findings:write or findings:triage'],
      ['--org ORG', 'the org'],
      DIR,
    ],
    examples: [
      'vulnvault policy grant --ou scanner-eu --action write --org org7',
      'vulnvault policy grant --client vulnvault-ui --action read --org org1',
    ],
  },
  'policy revoke': {
    usage: [
      'policy revoke --ou OU|--client CLIENT_ID|--iam ROLE_ARN --action read|write|triage --org ORG [--dir DIR]',
    ],
    about: 'Removes one grant; takes effect on the next request.',
    options: [
      ...PRINCIPAL,
      ['--action read|write|triage', 'findings:read, findings:write or findings:triage'],
      ['--org ORG', 'the org'],
      DIR,
    ],
    examples: ['vulnvault policy revoke --ou customer --action read --org org1'],
  },
  'policy list': {
    usage: [
      'policy list [--ou OU|--client CLIENT_ID|--iam ROLE_ARN] [--action read|write|triage] [--org ORG] [--json] [--dir DIR]',
    ],
    about: 'Lists the grants, all or those matching the filters.',
    options: [
      ...PRINCIPAL,
      ['--action read|write|triage', 'only this action'],
      ['--org ORG', 'only this org'],
      ['--json', 'one JSON array instead of a table'],
      DIR,
    ],
    examples: ['vulnvault policy list --ou scanner', 'vulnvault policy list --org org1 --json'],
  },
  'audit verify': {
    usage: ['audit verify [--dir DIR] [--key PUBLIC_KEY_PEM] [--anchor FILE]...'],
    about:
      "Checks the audit logs' hash chains, signed checkpoints (and the key-admin log), and that\n" +
      'each log still extends every head anchored outside DIR (the anchor directory, and each\n' +
      '--anchor FILE). Exit 0 and OK when intact, exit 1 naming the log and the first bad record.',
    options: [
      DIR,
      [
        '--key PUBLIC_KEY_PEM',
        'verify with this copy of the public key (default DIR/keys/audit-signing.pub)',
      ],
      ['--anchor FILE', 'heads exported earlier by `audit anchor` (repeatable)'],
    ],
    examples: [
      'vulnvault audit verify',
      'vulnvault audit verify --key audit.pub --anchor /mnt/worm/heads-2026-12-04.jsonl',
    ],
  },
  'audit anchor': {
    usage: ['audit anchor --out FILE|- [--dir DIR] [--key PUBLIC_KEY_PEM] [--anchor FILE]...'],
    about:
      'Verifies the logs as `audit verify` does, then writes the current head of every log to\n' +
      'FILE (or stdout with -), for a later `audit verify --anchor FILE`. Writes nothing when a\n' +
      'log fails its checks. Keep FILE off this host.',
    options: [
      ['--out FILE|-', 'where to write the heads (not inside DIR)'],
      DIR,
      ['--key PUBLIC_KEY_PEM', 'verify with this copy of the public key'],
      ['--anchor FILE', 'heads exported earlier, checked first (repeatable)'],
    ],
    examples: ['vulnvault audit anchor --out /mnt/worm/heads-$(date +%F).jsonl'],
  },
  'keys status': {
    usage: ['keys status [--json] [--dir DIR]'],
    about: "Lists the keyring's versions, their states and which orgs' data keys each protects.",
    options: [['--json', 'one JSON object instead of lines'], DIR],
    examples: ['vulnvault keys status'],
  },
  'keys init': {
    usage: ['keys init [--admin-key FILE] [--dir DIR]'],
    about: 'Creates the keyring and the key-admin key for a directory made before encryption.',
    options: [ADMIN_KEY, DIR],
    examples: ['vulnvault keys init --admin-key ~/vulnvault-key-admin.pem'],
  },
  'keys rotate': {
    usage: ['keys rotate [--admin-key FILE] [--dir DIR]'],
    about:
      'Adds a keyring version, makes it primary and rewraps every data key (the server keeps serving).',
    options: [ADMIN_KEY, DIR],
    examples: ['vulnvault keys rotate --admin-key ~/vulnvault-key-admin.pem'],
  },
  'keys rotate-cursor': {
    usage: ['keys rotate-cursor [--grace 1h] [--dir DIR]'],
    about:
      'Replaces the page-cursor secret; cursors made under the old one are accepted for the grace\n' +
      'period (the server keeps serving and picks the new secret up within keys.reloadIntervalMs).',
    options: [
      ['--grace DURATION', 'how long old cursors stay valid: 0, or 1s to 7d (default 1h)'],
      DIR,
    ],
    examples: ['vulnvault keys rotate-cursor', 'vulnvault keys rotate-cursor --grace 0'],
  },
  'keys disable': {
    usage: ['keys disable --version N [--admin-key FILE] [--dir DIR]'],
    about: 'Disables a version: reads and writes of the orgs under it get 503 key_unavailable.',
    options: [VERSION, ADMIN_KEY, DIR],
    examples: ['vulnvault keys disable --version 1 --admin-key ~/vulnvault-key-admin.pem'],
  },
  'keys enable': {
    usage: ['keys enable --version N [--admin-key FILE] [--dir DIR]'],
    about: 'Enables a disabled version again.',
    options: [VERSION, ADMIN_KEY, DIR],
    examples: ['vulnvault keys enable --version 1 --admin-key ~/vulnvault-key-admin.pem'],
  },
  'keys schedule-deletion': {
    usage: ['keys schedule-deletion --version N [--days 7-30] [--admin-key FILE] [--dir DIR]'],
    about: 'Schedules the deletion of a version that protects no data key (not the primary).',
    options: [VERSION, ['--days 7-30', 'waiting period (default 30)'], ADMIN_KEY, DIR],
    examples: ['vulnvault keys schedule-deletion --version 1 --days 30'],
  },
  'keys cancel-deletion': {
    usage: ['keys cancel-deletion --version N [--admin-key FILE] [--dir DIR]'],
    about: 'Cancels a scheduled deletion; the version stays disabled.',
    options: [VERSION, ADMIN_KEY, DIR],
    examples: ['vulnvault keys cancel-deletion --version 1'],
  },
  backup: {
    usage: ['backup --out FILE [--dir DIR] [--force]'],
    about:
      'Writes a consistent online backup of the stores (.tar.gz, mode 0600); no keys, PKI or logs.',
    options: [['--out FILE', 'the backup file'], DIR, ['--force', 'replace FILE if it exists']],
    examples: ['vulnvault backup --out /backups/vulnvault-2026-11-24.tar.gz'],
  },
  restore: {
    usage: ['restore FILE [--dir DIR] [--force]'],
    about: "Checks a backup's sums and integrity, then restores it into a stopped server's DIR.",
    options: [DIR, ['--force', 'replace existing data']],
    examples: ['vulnvault restore /backups/vulnvault-2026-11-24.tar.gz'],
  },
  upload: {
    usage: [
      'upload FILE --org ORG [--format F] [--target T]',
      '  [--dir DIR | --cert-dir D | --url U --cert C --key K --ca CA] [--idempotency-key K]',
    ],
    about:
      'Streams one scanner export to POST /v1/orgs/ORG/scans over mTLS, with progress on stderr,\n' +
      'and prints the import summary (format, targets, counts). The server detects the format\n' +
      'from the start of the file unless --format says it.',
    options: [
      ['--org ORG', 'the org the findings belong to'],
      [
        '--format F',
        'nessus-xml, nessus-csv, sarif, cyclonedx, cyclonedx-xml, trivy, grype, openvas, zap-xml,\n' +
          'zap-json, dependency-check, gitleaks, semgrep, nuclei, native (default: detected)',
      ],
      [
        '--target T',
        'what was scanned (project, image, host) for files that do not say it (Gitleaks, Semgrep, ...)',
      ],
      ['--type T', 'older spelling of --format: nessus, xml, csv, sarif, cyclonedx, json'],
      ['--dir DIR', "use DIR's config, CA and scanner certificate (default ./.vulnvault)"],
      [
        '--cert-dir D',
        'a directory made by cert enroll: its server, CA and certificate, renewed first when due',
      ],
      ['--url U', 'the server, e.g. https://vulnvault.example:8443 (needs --cert, --key, --ca)'],
      ['--cert C, --key K', 'client certificate and key (PEM)'],
      ['--ca CA', "the server's CA certificate (PEM)"],
      ['--idempotency-key K', 'makes a retry of this upload safe (default: a fresh random key)'],
    ],
    examples: [
      'vulnvault upload scan.nessus --org org1',
      'vulnvault upload trivy.json --org org1',
      'vulnvault upload gitleaks.json --org org1 --target github.com/acme/shop',
      'vulnvault upload results.sarif --org org2 --url https://vulnvault.example:8443 \\\n' +
        '    --cert scanner.crt --key scanner.key --ca ca.crt',
    ],
  },
  'feeds import': {
    usage: ['feeds import [--kev FILE] [--epss FILE] [--dir DIR]'],
    about:
      "Loads CISA's KEV catalog (known_exploited_vulnerabilities.json) and FIRST's EPSS scores\n" +
      '(epss_scores-YYYY-MM-DD.csv, gzipped or not) from files you downloaded; nothing is fetched.\n' +
      'Both are checked first; each feed is replaced whole or not at all. Prints what was imported,\n' +
      'and one JSON line per feed on stderr (file, sha256, version, user) for your records.',
    options: [
      ['--kev FILE', 'the KEV catalog JSON'],
      ['--epss FILE', 'the EPSS CSV (.csv or .csv.gz)'],
      DIR,
    ],
    examples: [
      'vulnvault feeds import --kev known_exploited_vulnerabilities.json --epss epss_scores-2026-09-29.csv.gz',
      'vulnvault feeds import --epss epss_scores-2026-09-30.csv.gz',
    ],
  },
  'feeds status': {
    usage: ['feeds status [--json] [--dir DIR]'],
    about: "Each imported feed's version, date, count, age and import time.",
    options: [['--json', 'as JSON (ageDays in whole days)'], DIR],
    examples: ['vulnvault feeds status'],
  },
  'sla set': {
    usage: [
      'sla set --org ORG [--critical D] [--high D] [--medium D] [--low D] [--info D] [--dir DIR]',
    ],
    about:
      "Sets an org's SLA: days to fix per severity (D = 1-3650, or none). Severities not given keep\n" +
      "their value. The due time of the org's scan findings is recomputed at once (first seen, or\n" +
      'reopened, + the days); seed records keep their DueDate.',
    options: [
      ['--org ORG', 'the org'],
      ['--critical D', 'days for critical findings (default 7)'],
      ['--high D', 'days for high (default 30)'],
      ['--medium D', 'days for medium (default 90)'],
      ['--low D', 'days for low (default 180)'],
      ['--info D', 'days for info (default none)'],
      DIR,
    ],
    examples: [
      'vulnvault sla set --org org1 --critical 3 --high 14',
      'vulnvault sla set --org org1 --info none',
    ],
  },
  'sla show': {
    usage: ['sla show --org ORG [--json] [--dir DIR]'],
    about: "An org's SLA policy: its own, or the config's default (triage.sla).",
    options: [['--org ORG', 'the org'], ['--json', 'as JSON'], DIR],
    examples: ['vulnvault sla show --org org1'],
  },
};

/** Commands made of subcommands, with a line on what the group is for. */
const GROUPS: Record<string, string> = {
  pki: 'Client certificates and their life cycle (IAM 1.1).',
  cert: "A client's own certificate over EST: enrol with a token, renew before it expires (IAM 1.1).",
  policy: 'Grants: which principal may read, write or triage which org.',
  audit: 'Checks the audit trail.',
  feeds: 'Priority feeds from files you downloaded: the CISA KEV catalog and FIRST EPSS scores.',
  sla: "Service levels: days to fix per severity, per org (findings' dueAt, overdue counts).",
  keys: 'Key management for the local keyring (DP 1.2); changes need the key-admin key\n(rotate-cursor does not: the page-cursor secret protects no data).',
};

function render(h: Help): string {
  const width = Math.max(...h.options.map(([o]) => o.length), '-h, --help'.length) + 2;
  const opt = ([o, d]: [string, string]) => `  ${o.padEnd(width)}${d}`;
  return [
    // A line that starts with a space continues the one before it.
    ...h.usage.map((u, i) =>
      u.startsWith(' ')
        ? `${' '.repeat(17)}${u.trimStart()}`
        : `${i === 0 ? 'usage: ' : '       '}vulnvault ${u}`,
    ),
    '',
    h.about,
    '',
    'options:',
    ...h.options.map(opt),
    opt(['-h, --help', 'this help']),
    '',
    h.examples.length > 1 ? 'examples:' : 'example:',
    ...h.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}

function renderGroup(group: string): string {
  const subs = Object.entries(COMMANDS).filter(([name]) => name.startsWith(`${group} `));
  return [
    ...subs.map(([, h], i) => `${i === 0 ? 'usage: ' : '       '}vulnvault ${h.usage[0] ?? ''}`),
    '',
    GROUPS[group] ?? '',
    `'vulnvault ${group} SUBCOMMAND --help' shows the options of one.`,
    '',
    'example:',
    `  ${subs[0]?.[1].examples[0] ?? ''}`,
    '',
  ].join('\n');
}

const TOP = `vulnvault — secure-by-default API for vulnerability data

usage: vulnvault COMMAND [OPTIONS]     ('vulnvault COMMAND --help' for its options and an example)

  init          create a data directory: config, dev PKI, stores, demo policy, keyring
  serve         serve the API over mTLS
  start         init the directory if missing, then serve (npm start)
  pki           issue, renew, revoke, crl, rotate-server, enroll-token(s), revoke-token: certificates
  cert          enroll, renew, watch: a client's own certificate over EST (key made on the client)
  policy        grant, revoke, list: who may read, write or triage which org
  audit         verify, anchor: check the audit logs' chains, checkpoints and anchored heads
  keys          status, init, rotate, rotate-cursor, disable, enable, schedule-deletion, cancel-deletion
  backup        consistent online backup of the stores (no keys, PKI or logs)
  restore       restore a backup into a stopped server's directory
  upload        stream a scan export (Nessus, CSV, SARIF, CycloneDX, JSON) to the server
  feeds         import, status: KEV catalog and EPSS scores from downloaded files
  sla           set, show: an org's days to fix per severity (due times, overdue counts)

DIR defaults to ./.vulnvault. Failures print one line on stderr and exit
non-zero (2 for usage errors); VULNVAULT_DEBUG=1 adds a stack trace.

examples:
  vulnvault start
  vulnvault upload scan.nessus --org org1
  vulnvault pki issue --name scanner-2 --ou scanner-eu --cn nessus-eu-1 --ttl 24h
`;

/**
 * The help `argv` asks for, or undefined when it asks for none (or names a
 * command that does not exist: the dispatcher reports that). Arguments after
 * `--` are never options, as for the parser.
 */
export function helpFor(argv: readonly string[]): string | undefined {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return TOP;
  if (first === 'help') return topic(rest);
  const end = argv.indexOf('--');
  const options = end < 0 ? argv : argv.slice(0, end);
  if (!options.includes('--help') && !options.includes('-h')) return undefined;
  return topic(argv);
}

function topic([command, sub]: readonly (string | undefined)[]): string | undefined {
  if (command === undefined) return TOP;
  if (command in GROUPS) {
    const h = sub !== undefined ? COMMANDS[`${command} ${sub}`] : undefined;
    return h ? render(h) : renderGroup(command);
  }
  const h = COMMANDS[command];
  return h ? render(h) : undefined;
}
