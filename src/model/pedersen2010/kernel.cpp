// The Pedersen 2010 kernel compiled for the baseline and, on x86-64, for AVX2
// and AVX-512 (the macro adds those clones); the same bits on every one.
#include "model/pedersen2010/kernel.hpp"

namespace isletsim::pedersen2010 {

ISLET_MODEL_KERNEL_TABLE(body, 1)

}  // namespace isletsim::pedersen2010
