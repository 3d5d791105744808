import numpy as np
import sae_codec

def rel_l2(a, b):
    return np.linalg.norm((a - b).reshape(len(a), -1), axis=1) / np.linalg.norm(a.reshape(len(a), -1), axis=1)

codec = sae_codec.Codec.load("target/sas_roundtrip/model.safetensors")      # the main job's model
images, params = sae_codec.simulate(params="target/sas_roundtrip/test.json")  # its 500 test images
data = codec.compress(images)                 # container bytes, identical to `sae compress`'s
back = codec.decompress(data)                 # float32, shape (500, 64, 64)
print(f"{images.nbytes / len(data):.1f}x, mean relative L2 {rel_l2(images, back).mean():.3e}")
bounded = codec.compress(images, max_error="l2:1e-2")  # the guaranteed mode
print(f"{images.nbytes / len(bounded):.1f}x, worst {rel_l2(images, codec.decompress(bounded)).max():.3e}")
