// zlib's crc32 for the production package writer (the ZIP entries' CRC-32). zlib is already
// linked on Linux through ZIPFoundation (zlib1g-dev), and ships with macOS.
#include <zlib.h>
