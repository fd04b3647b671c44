// The data-path components' settings from a parsed configuration: one place that maps config
// keys onto ReorderLimits, IngressLimits, FlowPolicy and the quota ledger's links, used at
// start and again on SIGHUP for the live keys.
#pragma once

#include <string>
#include <vector>

#include "tquicd/classifier.h"
#include "tquicd/config.h"
#include "tquicd/ingress_queue.h"
#include "tquicd/quota.h"
#include "tquicd/reorder.h"

namespace bond {

ReorderLimits reorder_limits(const Config& c);
IngressLimits ingress_limits(const Config& c);
FlowPolicy flow_policy(const Config& c);
// Every link, metered or not (unmetered links are counted too, for `tquicctl links`).
std::vector<QuotaLink> quota_links(const Config& c);
// Where the quota ledger's state lives: daemon.state_dir + "/quota.state".
std::string quota_state_path(const Config& c);

}  // namespace bond
