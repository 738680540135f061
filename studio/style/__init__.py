"""Neural style transfer (Gatys et al.): VGG19 features and the optimisation engine."""
