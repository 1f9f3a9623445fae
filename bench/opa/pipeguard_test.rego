# Tests of the comparison policy (`opa test bench/opa`; bench/opa_compare.sh runs them before measuring), so that
# the benchmark compares pipeguard against a policy that really finds what it claims to find.
package system_test

import data.system

config := {"images": {"verify": false, "allowedRegistries": ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/"]}}

profiles := {"payments": {
	"apiVersion": "pipeguard.io/v1alpha1", "kind": "PipelineSecurityProfile",
	"metadata": {"name": "payments", "namespace": "etl"},
	"spec": {
		"podSelector": {"matchLabels": {"pipeguard.io/pipeline": "payments"}},
		"serviceAccount": {"name": "payments-etl"},
	},
}}

image := "123456789012.dkr.ecr.eu-west-1.amazonaws.com/etl/payments:1.4.2"

# review(labels, spec): a CREATE of a pod in namespace etl.
review(pod_labels, spec) := {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
	"uid": "u-1", "kind": {"group": "", "version": "v1", "kind": "Pod"}, "namespace": "etl", "operation": "CREATE",
	"object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "etl", "labels": pod_labels}, "spec": spec},
}}

governed_labels := {"pipeguard.io/pipeline": "payments"}

spec_with(container) := {"serviceAccountName": "payments-etl", "containers": [object.union({"name": "c", "image": image}, container)]}

env_pod(env) := review(governed_labels, spec_with({"env": env}))

# The [rule, path] pairs of every violation, and the reply, for an input.
found(admission_review) := pairs if {
	pairs := {[v.rule, v.path] | some v in system.violations} with input as admission_review
		with data.pipeguard.config as config
		with data.pipeguard.profiles as profiles
}

reply(admission_review) := r if {
	r := system.main.response with input as admission_review
		with data.pipeguard.config as config
		with data.pipeguard.profiles as profiles
}

test_compliant_pod_is_allowed_with_the_profile_named if {
	r := reply(env_pod([{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]))
	r.allowed == true
	r.uid == "u-1"
	r.auditAnnotations == {"decision": "allowed", "governed": "true", "mode": "enforce", "mode-source": "config", "profiles": "etl/payments", "violations": "0"}
}

test_ungoverned_pod_is_allowed_without_annotations if {
	r := reply(review({"app": "web"}, {"containers": [{"name": "c", "image": "nginx", "env": [{"name": "PASSWORD", "value": "Xq7-vR93pLm"}]}]}))
	r == {"uid": "u-1", "allowed": true}
}

test_literal_secret_by_name_is_denied if {
	r := reply(env_pod([{"name": "DB_PASSWORD", "value": "Xq7-vR93pLm"}]))
	r.allowed == false
	contains(r.status.message, "plaintext-secret at /spec/containers/0/env/0/value")
	not contains(r.status.message, "Xq7-vR93pLm") # never the secret itself
}

test_camel_case_and_compound_names_are_secret_names if {
	found(env_pod([{"name": "dbPassword", "value": "Xq7-vR93pLm"}, {"name": "SF_APITOKEN", "value": "Zr8vK2mQ9xT4"}])) == {
		["plaintext-secret", "/spec/containers/0/env/0/value"],
		["plaintext-secret", "/spec/containers/0/env/1/value"],
	}
}

test_references_placeholders_paths_and_excluded_names_are_not_secrets if {
	found(env_pod([
		{"name": "DB_PASSWORD", "value": "$(OTHER_VAR)"},
		{"name": "API_TOKEN", "value": "changeme"},
		{"name": "SECRET", "value": "/var/run/secrets/db"},
		{"name": "PASSWORD_FILE", "value": "Xq7-vR93pLm"},
		{"name": "TOKEN_TTL", "value": "3600s"},
		{"name": "PASSWORD_ID", "value": "Xq7-vR93pLm"},
	])) == set()
}

test_uri_with_literal_password_is_a_secret_and_a_reference_is_not if {
	found(env_pod([
		{"name": "A", "value": "postgresql://etl:Xq7-vR93pLm@db.internal:5432/x?sslmode=verify-full"},
		{"name": "B", "value": "postgresql://etl:$(DB_PASSWORD)@db.internal:5432/x?sslmode=verify-full"},
	])) == {["plaintext-secret", "/spec/containers/0/env/0/value"]}
}

test_value_shapes_are_secrets_whatever_the_key if {
	found(env_pod([
		{"name": "A", "value": "AKIA2E0A8F3B244C9986"},
		{"name": "B", "value": "-----BEGIN RSA PRIVATE KEY-----"},
		{"name": "C", "value": "Bearer abcdef0123456789"},
		{"name": "D", "value": "ghp_Zr8vK2mQ9xT4wL6pZr8vK2mQ9xT4wL6pAbCd"},
	])) == {
		["plaintext-secret", "/spec/containers/0/env/0/value"],
		["plaintext-secret", "/spec/containers/0/env/1/value"],
		["plaintext-secret", "/spec/containers/0/env/2/value"],
		["plaintext-secret", "/spec/containers/0/env/3/value"],
	}
}

test_command_line_secrets if {
	found(review(governed_labels, spec_with({"args": ["--conf", "spark.hadoop.fs.s3a.secret.key=Zr8vK2mQ9xT4wL6p", "--password", "s3cr3tV4lue", "--date", "2026-11-26"]}))) == {
		["plaintext-secret", "/spec/containers/0/args/1"],
		["plaintext-secret", "/spec/containers/0/args/3"],
	}
}

test_insecure_transport if {
	found(env_pod([
		{"name": "A", "value": "postgresql://db.internal/x?sslmode=disable"},
		{"name": "B", "value": "SASL_PLAINTEXT"},
		{"name": "SSL_VERIFY", "value": "false"},
		{"name": "INSECURE_SKIP_VERIFY", "value": "true"},
		{"name": "E", "value": "jdbc:mysql://db/x?useSSL=false"},
	])) == {
		["insecure-transport", "/spec/containers/0/env/0/value"],
		["insecure-transport", "/spec/containers/0/env/1/value"],
		["insecure-transport", "/spec/containers/0/env/2/value"],
		["insecure-transport", "/spec/containers/0/env/3/value"],
		["insecure-transport", "/spec/containers/0/env/4/value"],
	}
}

test_sslmode_require_is_reported_but_does_not_deny if {
	r := env_pod([{"name": "A", "value": "postgresql://db.internal/x?sslmode=require"}])
	found(r) == {["insecure-transport", "/spec/containers/0/env/0/value"]}
	reply(r).allowed == true
}

test_credentials_over_plaintext_scheme if {
	found(env_pod([{"name": "A", "value": "redis://u:Xq7-vR93pLm@cache:6379"}])) == {
		["plaintext-secret", "/spec/containers/0/env/0/value"],
		["insecure-transport", "/spec/containers/0/env/0/value"],
	}
}

test_registry_prefix_matches_at_a_path_boundary_only if {
	found(review(governed_labels, {"serviceAccountName": "payments-etl", "containers": [
		{"name": "a", "image": image},
		{"name": "b", "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.io/x:1"},
		{"name": "c", "image": "python:3.11"},
	]})) == {
		["untrusted-registry", "/spec/containers/1/image"],
		["untrusted-registry", "/spec/containers/2/image"],
	}
}

test_service_account_outside_the_profile if {
	found(review(governed_labels, {"containers": [{"name": "c", "image": image}], "automountServiceAccountToken": true})) == {
		["service-account-scope", "/spec/serviceAccountName"],
		["service-account-scope", "/spec/automountServiceAccountToken"],
	}
}

test_governed_pod_without_profile if {
	r := review({"pipeguard.io/pipeline": "billing"}, spec_with({}))
	found(r) == {["missing-profile", "/metadata/labels"]}
	reply(r).allowed == false
}

test_registry_prefix_without_slash_matches_at_a_boundary if {
	bare := {"images": {"allowedRegistries": ["registry.corp"]}}
	pod := review(governed_labels, {"serviceAccountName": "payments-etl", "containers": [
		{"name": "a", "image": "registry.corp/etl:1"},
		{"name": "b", "image": "registry.corp.evil.io/etl:1"},
		{"name": "c", "image": "registry.corp@sha256:0123"},
	]})
	pairs := {[v.rule, v.path] | some v in system.violations} with input as pod
		with data.pipeguard.config as bare
		with data.pipeguard.profiles as profiles
	pairs == {["untrusted-registry", "/spec/containers/1/image"]}
}
