// The Cha 2011 kernel body compiled for the baseline, AVX2 and AVX-512
// (model_abi.hpp); every path gives the same bits.
#include "model/cha2011/kernel.hpp"

namespace isletsim::cha2011 {

ISLET_MODEL_KERNEL_TABLE(body, 1)

}  // namespace isletsim::cha2011
