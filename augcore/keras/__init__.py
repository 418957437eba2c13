"""Keras ImageDataGenerator drop-in (see docs/migrating-from-keras.md)."""
