// Moved to the base layer: include "pipeguard/base/status.h". This forwarding header goes once no branch uses it.
#pragma once

#include "pipeguard/base/status.h"
