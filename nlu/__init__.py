"""Natural-language understanding: data loading and validation, fine-tuning, inference, evaluation."""
