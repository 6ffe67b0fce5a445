// Text rendering shared by the commands.
#pragma once

#include <string>

#include "core/common/json.h"

namespace helm::app {

// One line per receipt: "#seq time kind verdict/status reason agent=.. id=..".
std::string ReceiptLine(const Json& receipt);

}  // namespace helm::app
