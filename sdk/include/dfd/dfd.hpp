// dfd SDK — everything a plugin may include, in one header.
#pragma once

#include "dfd/auth.hpp"
#include "dfd/broker.hpp"
#include "dfd/digest.hpp"
#include "dfd/host_services.hpp"
#include "dfd/info.hpp"
#include "dfd/plugin.hpp"
#include "dfd/status.hpp"
#include "dfd/storage.hpp"
