// Everything an embedder needs: the sans-I/O endpoint and connections, HTTP/3, and the UDP
// driver. See docs/api.md.
#pragma once

#include "tquic/address.h"
#include "tquic/config.h"
#include "tquic/connection.h"
#include "tquic/endpoint.h"
#include "tquic/error.h"
#include "tquic/events.h"
#include "tquic/h3.h"
#include "tquic/webtransport.h"
#include "tquic/info.h"
#include "tquic/io.h"
#include "tquic/time.h"
