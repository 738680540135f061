"""Neural style transfer (Gatys et al.) over a choice of ImageNet feature networks."""

NETWORK_NAMES = ("vgg19", "lite0", "lite1", "lite2")  # networks.py describes each
