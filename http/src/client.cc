#include "pipeguard/http/client.h"

#include <openssl/err.h>
#include <openssl/x509.h>

namespace pipeguard::http {

StatusOr<TrustStore> LoadTrustStore(const std::string& ca_file, const std::string& where) {
  TrustStore store(X509_STORE_new(), X509_STORE_free);
  if (!store || X509_STORE_set_default_paths(store.get()) != 1) {
    return Status::Internal("cannot create a certificate store for " + where);
  }
  if (!ca_file.empty() && X509_STORE_load_file(store.get(), ca_file.c_str()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(where + " " + ca_file +
                                   ": cannot be read or holds no PEM certificate (a CA bundle in PEM is expected)");
  }
  return store;
}

void SetMinimumTlsVersion(SSL_CTX* ctx) { SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); }

void ApplyTlsPolicy(httplib::Client& client, const TlsPolicy& policy) {
  SSL_CTX* ctx = client.ssl_context();
  if (ctx == nullptr) return;  // plain HTTP
  SetMinimumTlsVersion(ctx);
  if (policy.trust) {
    X509_STORE_up_ref(policy.trust.get());  // the client's SSL_CTX takes one reference
    client.set_ca_cert_store(policy.trust.get());
  }
  // httplib verifies the chain and the host name after the handshake when this is on (with the system roots when
  // no store was set), and reports a failure as Error::SSLServerVerification.
  client.enable_server_certificate_verification(policy.verify_peer);
}

std::unique_ptr<httplib::Client> NewClient(const Url& url, const TlsPolicy& tls) {
  auto client = std::make_unique<httplib::Client>(url.Origin());
  ApplyTlsPolicy(*client, tls);
  SetConnectionDefaults(*client);
  return client;
}

}  // namespace pipeguard::http
