# The floor of the OPA comparison: the same OPA server, TLS, request decoding and reply encoding, with a policy that
# admits every review without looking at it. bench/opa_compare.sh serves it from a second OPA process whose default
# decision is data.floor.main (`--set default_decision=/floor/main`), to show how much of OPA's cost is the server
# and how much is the Rego of bench/opa/pipeguard.rego.
package floor

main := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"response": {"uid": input.request.uid, "allowed": true},
}
