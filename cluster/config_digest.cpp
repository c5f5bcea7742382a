#include "cluster/config_digest.hpp"

#include <openssl/evp.h>

namespace herald {

namespace {

// Length-prefixed, so that ("ab","c") and ("a","bc") differ.
void feed(std::string& out, const std::string& field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

} // namespace

std::string config_digest(const settings& s) {
  std::string text;
  feed(text, "herald-cluster-v1");
  feed(text, s.api_key);
  feed(text, s.cluster_secret);
  feed(text, s.allow_undeclared_groups ? "allow" : "refuse");
  feed(text, std::to_string(s.group_replicas));
  for (const auto& g : s.groups) {
    feed(text, g.name);
    feed(text, std::to_string(g.bit));
    feed(text, g.title);
    feed(text, g.notify ? "notify" : "quiet");
    feed(text, std::to_string(g.history));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

} // namespace herald
