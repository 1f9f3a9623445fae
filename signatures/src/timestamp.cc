#include "pipeguard/signatures/timestamp.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

namespace pipeguard::signatures {
namespace {

struct RespDeleter {
  void operator()(TS_RESP* resp) const { TS_RESP_free(resp); }
};
struct VerifyCtxDeleter {
  void operator()(TS_VERIFY_CTX* ctx) const { TS_VERIFY_CTX_free(ctx); }
};

}  // namespace

StatusOr<int64_t> VerifyRfc3161Timestamp(std::string_view response_der, std::string_view signed_bytes,
                                         const TrustedRoot& root) {
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(response_der.data());
  std::unique_ptr<TS_RESP, RespDeleter> response(d2i_TS_RESP(nullptr, &cursor, static_cast<long>(response_der.size())));
  ERR_clear_error();
  if (response == nullptr) return Status::InvalidArgument("the RFC 3161 timestamp is not a DER TimeStampResp");
  TS_TST_INFO* info = TS_RESP_get_tst_info(response.get());
  const ASN1_GENERALIZEDTIME* gen_time = info ? TS_TST_INFO_get_time(info) : nullptr;
  struct tm parts {};
  if (gen_time == nullptr || ASN1_TIME_to_tm(gen_time, &parts) != 1) {
    return Status::InvalidArgument("the RFC 3161 timestamp has no valid genTime");
  }
  const int64_t time = static_cast<int64_t>(timegm(&parts));

  bool any_authority = false;
  for (const CertificateAuthority& authority : root.timestamp_authorities()) {
    if (!authority.valid_for.Contains(time)) continue;
    any_authority = true;
    X509_STORE* store = X509_STORE_new();
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    if (store == nullptr || untrusted == nullptr) {
      X509_STORE_free(store);
      sk_X509_free(untrusted);
      return Status::Internal("cannot allocate timestamp verification state");
    }
    // The last certificate is the anchor; the others (the TSA's signing certificate and intermediates) may be
    // missing from the token, so they are supplied as untrusted candidates.
    X509_STORE_add_cert(store, authority.certificates.back().get());
    for (size_t i = 0; i + 1 < authority.certificates.size(); ++i) {
      X509_up_ref(authority.certificates[i].get());
      sk_X509_push(untrusted, authority.certificates[i].get());
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), static_cast<time_t>(time));
    std::unique_ptr<TS_VERIFY_CTX, VerifyCtxDeleter> ctx(TS_VERIFY_CTX_new());
    if (ctx == nullptr) {
      X509_STORE_free(store);
      sk_X509_pop_free(untrusted, X509_free);
      return Status::Internal("cannot allocate timestamp verification state");
    }
    TS_VERIFY_CTX_set_store(ctx.get(), store);      // owned by ctx from here
    TS_VERIFY_CTX_set_certs(ctx.get(), untrusted);  // owned by ctx
    TS_VERIFY_CTX_set_data(ctx.get(), BIO_new_mem_buf(signed_bytes.data(), static_cast<int>(signed_bytes.size())));
    TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_SIGNATURE | TS_VFY_VERSION | TS_VFY_DATA);
    const bool verified = TS_RESP_verify_response(ctx.get(), response.get()) == 1;
    ERR_clear_error();
    if (verified) return time;
  }
  if (!any_authority) {
    return Status::InvalidArgument("no timestamp authority of the trusted root is valid at the timestamp's time");
  }
  return Status::InvalidArgument(
      "the RFC 3161 timestamp does not verify: not signed by a trusted timestamp authority valid at its time, or it "
      "timestamps other data");
}

}  // namespace pipeguard::signatures
