# The comparison policy of bench/opa_compare.sh: what pipeguard's /validate checks on a governed pod, written the
# way an OPA user would write it in Rego, for OPA served as a Kubernetes validating webhook.
#
# Deployment shape (the kube-mgmt style): the API server POSTs the AdmissionReview as it is to OPA's `POST /`, OPA
# evaluates its default decision `data.system.main` with the body as `input`, and the value of `main` is the reply:
# an admission.k8s.io/v1 AdmissionReview. So both servers get the same bytes and answer the same kind of document.
#
# Data, loaded from the same files pipeguard-webhook reads (bench/write_fixtures):
#   data.pipeguard.config           the webhook's config.yaml (images.allowedRegistries, governance.selectors)
#   data.pipeguard.profiles.<name>  each PipelineSecurityProfile of the context directory
#
# What it checks, rule IDs as pipeguard's, on Pods (containers, initContainers, ephemeralContainers):
#   - governed: a label matches a governance selector (pipeguard's defaults unless the config lists its own:
#     kubernetes_pod_operator=True, spark-role exists, pipeguard.io/pipeline exists) or a profile selects the pod;
#   - missing-profile: governed but no profile in the namespace selects its labels (matchLabels, matchExpressions);
#   - service-account-scope: serviceAccountName (default "default") is the one every selecting profile grants;
#     automountServiceAccountToken: true where the profile does not allow tokens;
#   - untrusted-registry: each image starts with an allowed registry prefix at a path boundary, Docker Hub short
#     names expanded to docker.io/library/... first;
#   - plaintext-secret: env values and command-line `key=value` / `--flag value` pairs whose key is a strong
#     secret name (pipeguard's token lists: password, secret, token, apikey, ...; its exclusions: _id, _url,
#     _file, ...) and whose value is a literal (not a reference such as $(VAR) or ${VAR}, not a placeholder, not a
#     path); and values whose shape is a secret whatever the key: PEM private keys, AWS key IDs, vendor tokens
#     (GitHub, GitLab, Slack, Google, Stripe, Databricks), JWT-shaped strings, literal Authorization headers,
#     a literal password in a URI;
#   - insecure-transport: sslmode=disable|allow|prefer (medium or high; `require` is low, not blocking),
#     ssl=false, useSSL=false, encrypt=false, trustServerCertificate=true in connection strings; Kafka PLAINTEXT
#     and SASL_PLAINTEXT; `*_VERIFY*=false` style TLS switches and `*INSECURE*=true`; credentials in an http://
#     (or other plaintext-scheme) URI.
# Findings of severity medium and up deny (pipeguard's default blockingSeverity).
#
# What it does NOT do that pipeguard does (so on pods with such content the two disagree; the benchmark's
# representative pod has none of it, and both admit it with no finding):
#   - unsigned-image: no signature verification; the benchmark runs pipeguard with images.verify: false, so neither
#     side verifies (OPA would need an external data call per image, outside Rego). Digest pinning is /mutate's,
#     which the benchmark does not call on either side.
#   - objects other than Pods (Deployments, Jobs, CronJobs, SparkApplications, ConfigMaps with Spark/Hadoop
#     properties and pod templates, PipelineSecurityProfile guardrails), break-glass waivers, audit/enforce modes,
#     malformed-object denials, namespace labels, ServiceAccount/RBAC lookups of the context.
#   - the detectors' finer parsing: Hadoop XML, shell assignments, Spark `--conf` semantics per executor, JDBC and
#     ODBC connection-string grammar, percent-decoding of URI passwords, JWT decoding (a regex stands in), the
#     weak-name rules (`key`, `auth`, `credential` with a secret-shaped value) and the audit-only entropy finding.
#   - the reply's bounds: pipeguard lists at most 100 violations and counts the rest; this lists them all.
#   - the audit line: pipeguard writes one JSON line per review (to /dev/null in the benchmark); OPA's decision
#     log is off (its default).
package system

default config := {}

config := data.pipeguard.config

profiles := [p | some p in data.pipeguard.profiles]

main := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"response": response,
}

uid := object.get(input, ["request", "uid"], "")

blocking := [v | some v in violations; v.severity in {"medium", "high", "critical"}]

denial_message := concat("; ", sort([sprintf("%s at %s: %s", [v.rule, v.path, v.message]) | some v in blocking]))

profile_ids := concat(",", sort([sprintf("%s/%s", [p.metadata.namespace, p.metadata.name]) | some p in selecting]))

response := {
	"uid": uid,
	"allowed": false,
	"status": {"code": 403, "message": denial_message},
	"auditAnnotations": {"decision": "denied", "governed": "true", "mode": "enforce", "mode-source": "config", "profiles": profile_ids, "violations": format_int(count(violations), 10)},
} if {
	governed
	count(blocking) > 0
} else := {
	"uid": uid,
	"allowed": true,
	"auditAnnotations": {"decision": "allowed", "governed": "true", "mode": "enforce", "mode-source": "config", "profiles": profile_ids, "violations": format_int(count(violations), 10)},
} if {
	governed
} else := {"uid": uid, "allowed": true}

# --- what is reviewed ------------------------------------------------------------------------------------------

pod := input.request.object if {
	input.request.kind.kind == "Pod"
	input.request.operation in {"CREATE", "UPDATE"}
}

namespace := object.get(pod, ["metadata", "namespace"], input.request.namespace)

labels := object.get(pod, ["metadata", "labels"], {})

# [path, container] for every container of the pod.
containers contains [sprintf("/spec/%s/%d", [field, i]), c] if {
	some field in ["initContainers", "containers", "ephemeralContainers"]
	some i, c in object.get(pod, ["spec", field], [])
}

# --- governance and profiles -----------------------------------------------------------------------------------

default_selectors := [
	{"matchLabels": {"kubernetes_pod_operator": "True"}},
	{"matchExpressions": [{"key": "spark-role", "operator": "Exists"}]},
	{"matchExpressions": [{"key": "pipeguard.io/pipeline", "operator": "Exists"}]},
]

governance_selectors := object.get(config, ["governance", "selectors"], default_selectors)

governed if {
	pod
	some selector in governance_selectors
	selects(selector, labels)
}

governed if {
	pod
	count(selecting) > 0
}

selecting contains p if {
	some p in profiles
	p.metadata.namespace == namespace
	selects(p.spec.podSelector, labels)
}

selects(selector, pod_labels) if {
	every k, v in object.get(selector, "matchLabels", {}) {
		pod_labels[k] == v
	}
	every e in object.get(selector, "matchExpressions", []) {
		expression_holds(e, pod_labels)
	}
}

expression_holds(e, pod_labels) if {
	e.operator == "In"
	pod_labels[e.key] in e.values
}

expression_holds(e, pod_labels) if {
	e.operator == "NotIn"
	not pod_labels[e.key] in e.values
}

expression_holds(e, pod_labels) if {
	e.operator == "Exists"
	pod_labels[e.key]
}

expression_holds(e, pod_labels) if {
	e.operator == "DoesNotExist"
	not pod_labels[e.key]
}

# --- the rules -------------------------------------------------------------------------------------------------

violations contains {
	"rule": "missing-profile", "severity": "high", "path": "/metadata/labels",
	"message": sprintf("no PipelineSecurityProfile in namespace %s selects this governed pod", [namespace]),
} if {
	governed
	count(selecting) == 0
}

service_account := sa if {
	sa := object.get(pod, ["spec", "serviceAccountName"], "")
	sa != ""
} else := "default"

violations contains {
	"rule": "service-account-scope", "severity": "high", "path": "/spec/serviceAccountName",
	"message": sprintf("runs as service account %q but profile %s/%s grants only %q", [service_account, p.metadata.namespace, p.metadata.name, granted]),
} if {
	governed
	some p in selecting
	granted := p.spec.serviceAccount.name
	service_account != granted
}

violations contains {
	"rule": "service-account-scope", "severity": "medium", "path": "/spec/automountServiceAccountToken",
	"message": sprintf("mounts an API token but profile %s/%s disallows it", [p.metadata.namespace, p.metadata.name]),
} if {
	governed
	some p in selecting
	object.get(p.spec, ["serviceAccount", "automountToken"], false) != true
	pod.spec.automountServiceAccountToken == true
}

allowed_registries := object.get(config, ["images", "allowedRegistries"], [])

violations contains {
	"rule": "untrusted-registry", "severity": "high", "path": sprintf("%s/image", [path]),
	"message": sprintf("image %q is not from an allowed registry", [c.image]),
} if {
	governed
	count(allowed_registries) > 0
	some [path, c] in containers
	not trusted_image(c.image)
}

trusted_image(image) if {
	some prefix in allowed_registries
	some candidate in {image, normalized_image(image)}
	registry_prefix_matches(candidate, prefix)
}

normalized_image(image) := sprintf("docker.io/library/%s", [image]) if {
	not contains(image, "/")
} else := image if {
	first := split(image, "/")[0]
	regex.match(`[.:]|^localhost$`, first)
} else := sprintf("docker.io/%s", [image])

registry_prefix_matches(image, prefix) if {
	startswith(image, prefix)
	endswith(prefix, "/")
}

registry_prefix_matches(image, prefix) if image == prefix

registry_prefix_matches(image, prefix) if {
	startswith(image, prefix)
	substring(image, count(prefix), 1) in {"/", ":", "@"}
}

# --- plaintext secrets and insecure transport: what is scanned --------------------------------------------------

# [at, key, value] for every literal env value, and every `key=value` or `--key value` of a command line; `at` is
# [container path, field, index, suffix]: json_path(at) formats it only for a finding (sprintf per entry costs).
entries contains [[path, "env", i, "/value"], e.name, e.value] if {
	governed
	some [path, c] in containers
	some i, e in object.get(c, "env", [])
	is_string(e.value)
}

entries contains [[path, field, i, ""], key, value] if {
	governed
	some [path, c] in containers
	some field in ["command", "args"]
	some i, arg in object.get(c, field, [])
	[key, value] := split_assignment(arg)
}

entries contains [[path, field, i + 1, ""], flag, line[i + 1]] if {
	governed
	some [path, c] in containers
	some field in ["command", "args"]
	line := object.get(c, field, [])
	some i, arg in line
	startswith(arg, "-")
	not contains(arg, "=")
	flag := trim_left(arg, "-")
	i + 1 < count(line)
}

# [at, value] for every string a value-shape rule looks at: env values and every command-line word.
values contains [[path, "env", i, "/value"], e.value] if {
	governed
	some [path, c] in containers
	some i, e in object.get(c, "env", [])
	is_string(e.value)
}

values contains [[path, field, i, ""], arg] if {
	governed
	some [path, c] in containers
	some field in ["command", "args"]
	some i, arg in object.get(c, field, [])
}

json_path(at) := sprintf("%s/%s/%d%s", at)

split_assignment(arg) := [trim_left(substring(arg, 0, n), "-"), substring(arg, n + 1, -1)] if {
	n := indexof(arg, "=")
	n > 0
}

# --- plaintext-secret by key name ------------------------------------------------------------------------------

violations contains {
	"rule": "plaintext-secret", "severity": "high", "path": json_path(at),
	"message": sprintf("%s holds a literal secret; take it from a Secret (valueFrom.secretKeyRef)", [key]),
} if {
	some [at, key, value] in entries
	regex.match(sensitive_name_keywords, key)
	name_strength(key) == "strong"
	secret_literal(value)
}

# Keys without one of these words are never secret names: looked for before the key is split into words (as
# pipeguard's MayBeSensitiveName does).
sensitive_name_keywords := `(?i)pass|pwd|private|secret|signature|token|key|auth|cred|jaas|fernet`

strong_words := {
	"password", "passwd", "pwd", "pass", "passphrase", "secret", "token", "apikey", "jaas", "fernet",
	"secretkey", "privatekey", "accesstoken", "authtoken", "clientsecret",
}

strong_suffixes := ["password", "passwd", "secret", "token"]

strong_pairs := {
	"key": {"private", "api", "access", "secret", "account", "signing", "encryption", "master"},
	"secret": {"client"},
	"token": {"auth", "session"},
}

weak_words := {"key", "auth", "credential", "cred", "creds", "private", "signature"}

excluded_anywhere := {
	"length", "size", "type", "version", "enabled", "enable", "expiry", "expiration", "ttl", "timeout", "algorithm",
	"count", "policy", "public", "csrf", "hash", "regex", "pattern", "format", "mode", "max", "min", "limit",
	"rotation", "required", "publishable",
}

excluded_after := {
	"id", "ids", "name", "file", "path", "dir", "location", "url", "uri", "endpoint", "host", "port", "user",
	"username", "login", "provider", "class", "ref", "arn", "region", "prefix", "suffix", "backend", "header",
	"store", "keytab", "keystore", "truststore", "stdin", "prompt", "cmd", "command", "env", "field", "param", "var",
	"mount", "volume", "server", "servers", "bootstrap",
}

# Words of a key: split at separators and lower-to-upper case changes, lower-cased, plural `s` dropped.
key_tokens(key) := [singular(lower(w)) | some w in regex.find_n(`[A-Z]+[a-z0-9]*|[a-z0-9]+`, key, -1)]

singular(w) := "key" if w == "keys"

else := substring(w, 0, count(w) - 1) if {
	count(w) > 4
	endswith(w, "s")
	not endswith(w, "ss")
} else := w

strong_token(t) if t in strong_words

strong_token(t) if {
	some suffix in strong_suffixes
	endswith(t, suffix)
	count(t) > count(suffix)
}

strong_ends(tokens) := ends if {
	singles := {end | some i, t in tokens; strong_token(t); end := i + 1}
	pairs := {end |
		some i, t in tokens
		i + 1 < count(tokens)
		t in object.get(strong_pairs, tokens[i + 1], set())
		end := i + 2
	}
	ends := singles | pairs
}

weak_ends(tokens) := ends if {
	ends := {end | some i, t in tokens; t in weak_words; end := i + 1}
}

excluded_from(tokens, start) if {
	some i, t in tokens
	i >= start
	t in excluded_after
}

name_strength(key) := strength if {
	tokens := key_tokens(key)
	strength := classify(tokens, strong_ends(tokens), weak_ends(tokens))
}

classify(tokens, strong, weak) := "none" if {
	some t in tokens
	t in excluded_anywhere
} else := "none" if {
	count(strong) > 0
	excluded_from(tokens, max(strong))
} else := "strong" if {
	count(strong) > 0
} else := "none" if {
	count(weak) > 0
	excluded_from(tokens, max(weak))
} else := "weak" if {
	count(weak) > 0
} else := "none"

# A value that could be a secret: not empty, not a reference, not a placeholder, not a path.
secret_literal(value) if {
	v := trim_space(value)
	count(v) > 0
	not reference(v)
	not placeholder(v)
	not path_like(v)
}

reference(v) if regex.match(`^(\$[({A-Za-z_0-9]|\x60|\{\{|#\{|<%)|^%[A-Za-z0-9_.-]+%$|^@[A-Za-z0-9_.-]+@$|(^|[^$])\$\([A-Za-z_][A-Za-z0-9_]*\)|(^|[^$])\$\{[^}]*\}|\{\{.*\}\}`, v)

placeholder(v) if regex.match(`^(x+|X+|\*+|<.*>|\[.*\]|AKIAIOSFODNN7EXAMPLE|wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY)$`, v)

placeholder(v) if {
	count(v) <= 24
	regex.match(`^(?i)(changeme|changeit|password|passwd|secret|token|example|sample|dummy|fake|test|none|null|redacted|(my|your)[-_]?(password|passwd|secret|token|api-key|api_key|apikey|key)([-_]?here)?)$`, v)
}

placeholder(v) if regex.match(`(?i)example|xxxx|\*\*\*|changeme|redacted|dummy|placeholder|fake|<..*>`, v)

path_like(v) if {
	regex.match(`^(/|\./|\.\./|~/|(?i:file:|local:))`, v)
	not regex.match(`[\s+=]`, v)
}

# --- plaintext-secret by value shape ---------------------------------------------------------------------------

secret_shapes := {
	"private key": `-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----`,
	"AWS access key ID": `\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b`,
	"vendor token": `\bgh[pousr]_[0-9A-Za-z]{36}\b|\bgithub_pat_[0-9A-Za-z_]{82}\b|\bglpat-[0-9A-Za-z_-]{20}\b|\bxox[baprse]-[0-9]{6,}-[0-9A-Za-z-]{8,}|hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{40,60}|\bdapi[a-f0-9]{32}(?:-[0-9])?\b|\bAIza[0-9A-Za-z_-]{35}\b|\b[sr]k_(?:live|test|prod)_[0-9A-Za-z]{10,99}\b`,
	"JWT": `\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`,
	"Authorization header": `^(?i:authorization:\s*)?(?i:bearer|basic|token|api-token)\s+[A-Za-z0-9._~+/=-]{8,}$`,
}

# A keyword every shape starts with, looked for first: most values have none, and a regex.match of each shape costs
# microseconds (one alternation of all the shapes is slower still: Go's regexp runs it without backtracking).
secret_keywords := `-----BEGIN|A3T|AKIA|ASIA|ABIA|ACCA|gh[pousr]_|github_pat_|glpat-|xox|hooks\.slack\.com|dapi|AIza|k_(?:live|test|prod)_|eyJ|(?i:bearer|basic|token)`

violations contains {
	"rule": "plaintext-secret", "severity": "high", "path": json_path(at),
	"message": sprintf("holds a literal %s; take it from a Secret", [shape]),
} if {
	some [at, value] in values
	regex.match(secret_keywords, value)
	some shape, pattern in secret_shapes
	regex.match(pattern, value)
	not placeholder(value)
	not reference(value)
}

# [scheme, password] of every `scheme://user:password@` in a value.
uri_credentials(value) := [[lower(m[1]), m[2]] |
	contains(value, "@")
	some m in regex.find_all_string_submatch_n(`([A-Za-z][A-Za-z0-9+.-]*)://[^\s/:@]*:([^\s/@]+)@`, value, -1)
]

violations contains {
	"rule": "plaintext-secret", "severity": "high", "path": json_path(at),
	"message": "holds a URI with a literal password; take the password from a Secret ($(VAR) from secretKeyRef)",
} if {
	some [at, value] in values
	some [_, password] in uri_credentials(value)
	count(password) >= 3
	secret_literal(password)
}

# --- insecure-transport ----------------------------------------------------------------------------------------

transport_shapes := {
	`(?:^|[?&;\s])(?i:ssl-?_?mode)=disabled?(?:[&;\s]|$)`: ["high", "TLS disabled (sslmode=disable)"],
	`(?:^|[?&;\s])(?i:ssl-?_?mode)=(?:allow|prefer|preferred)(?:[&;\s]|$)`: ["medium", "TLS optional (sslmode=prefer/allow)"],
	`(?:^|[?&;\s])(?i:ssl-?_?mode)=(?:require|required)(?:[&;\s]|$)`: ["low", "TLS without server authentication (sslmode=require)"],
	`(?:^|[?&;\s])(?i:ssl|usessl)=(?i:false)(?:[&;\s]|$)`: ["high", "TLS turned off (ssl=false)"],
	`(?:^|[?&;\s])(?i:encrypt)=(?i:false|no)(?:[&;\s]|$)`: ["high", "TLS turned off (encrypt=false)"],
	`(?:^|[?&;\s])(?i:trustservercertificate)=(?i:true|yes)(?:[&;\s]|$)`: ["medium", "server certificate not checked"],
	`(?i:^|[\s,])SASL_PLAINTEXT(?:://|$|[\s,])`: ["high", "Kafka SASL over plaintext"],
	`(?:^|[\s,])(?i:PLAINTEXT)(?:://|$|[\s,])`: ["medium", "Kafka plaintext listener"],
}

transport_keywords := `(?i)ssl|encrypt|trustservercertificate|plaintext`

violations contains {
	"rule": "insecure-transport", "severity": severity, "path": json_path(at), "message": message,
} if {
	some [at, value] in values
	regex.match(transport_keywords, value)
	some pattern, [severity, message] in transport_shapes
	regex.match(pattern, value)
}

plaintext_schemes := {"http", "redis", "amqp", "ldap", "ftp", "smtp", "mongodb", "mqtt", "nats", "ws", "telnet"}

violations contains {
	"rule": "insecure-transport", "severity": "high", "path": json_path(at),
	"message": sprintf("sends credentials over %s:// (no TLS)", [scheme]),
} if {
	some [at, value] in values
	some [scheme, password] in uri_credentials(value)
	scheme in plaintext_schemes
	count(password) > 0
}

violations contains {
	"rule": "insecure-transport", "severity": "medium", "path": json_path(at),
	"message": sprintf("%s turns TLS certificate verification off", [key]),
} if {
	some [at, key, value] in entries
	regex.match(`(?i)verif|valid|insecure`, key)
	tokens := {t | some t in key_tokens(key)}
	tls_switch_off(tokens, lower(trim_space(value)))
}

verify_words := {"verify", "verification", "validate", "validation"}

tls_words := {"ssl", "tls", "cert", "certificate", "http", "hostname"}

negation_words := {"no", "skip", "disable", "disabled"}

tls_switch_off(tokens, value) if {
	count(tokens & verify_words) > 0
	count(tokens & tls_words) > 0
	count(tokens & negation_words) == 0
	not "insecure" in tokens
	value in {"false", "no", "off", "0"}
}

tls_switch_off(tokens, value) if {
	count(tokens & verify_words) > 0
	count(tokens & negation_words) > 0
	value in {"true", "yes", "on", "1"}
}

tls_switch_off(tokens, value) if {
	"insecure" in tokens
	value in {"true", "yes", "on", "1"}
}
