#pragma once

#include <string>

#include "actors/settings.hpp"

namespace herald {

/// The version of the protocol nodes speak to each other; a node refuses a
/// peer that speaks another (docs/cluster.md).
constexpr std::uint32_t cluster_protocol_version = 1;

/// Returns the SHA-256 (hex) of the settings every node of a cluster must
/// share: the API key, the declared groups, whether undeclared groups are
/// allowed, group-replicas and the cluster secret. Two nodes whose digests
/// differ refuse each other. Hashed, so that neither key travels in a hello.
std::string config_digest(const settings& s);

} // namespace herald
