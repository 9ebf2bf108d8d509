// SHA-256 of files, for verifying downloaded LFS blobs against the hash the hub names them by.
#pragma once
#include <string>

namespace lmkit {

// Lower-case hex SHA-256 of the file's contents; throws lmkit::Error if it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace lmkit
