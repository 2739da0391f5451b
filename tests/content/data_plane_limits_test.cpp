// Limits of the data plane (issue 11): connection caps, parked-request caps, header timeouts.
#include <gtest/gtest.h>

#include "data_plane_fixture.hpp"

namespace dfd::test {
namespace {}  // namespace
}  // namespace dfd::test
