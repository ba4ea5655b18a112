"""Evidence: observed series to set beside the model, and calibration against what was known by 2014."""
