"""What a tracked β-TCVAE training leaves for TensorBoard's reader: the scalar tags every history
row logs, and the event files read back whole (the tests of the trackers and of tracked runs)."""

#: the tags of one history row of a TCELBO training (its terms under ``elbo/``, the learning rate)
TC_TRAINING_TAGS = (
    "elbo/loss",
    "elbo/recon",
    "elbo/kl",
    "elbo/mi_mss",
    "elbo/tc_mss",
    "elbo/dwkl_mss",
    "train/lr",
)


def read_events(logdir):
    """Every scalar and image of the event files under ``logdir`` (no sampling)."""
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    return acc
