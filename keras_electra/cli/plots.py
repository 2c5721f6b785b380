"""The pre-training curves as a PNG (matplotlib, no display needed)."""

# (metric, panel title, y label)
PANELS = (
    (("generator_loss", "discriminator_loss"), "Loss", "loss (log scale)"),
    (("generator_accuracy", "discriminator_accuracy"), "Accuracy", "accuracy"),
)


def plot_pretraining_curves(history, path, title="ELECTRA pre-training"):
    """Plot generator and discriminator loss and accuracy against steps.

    Args:
        history: dict with `"step"` (list of ints) and one list of floats
            per metric (`generator_loss`, `discriminator_loss`,
            `generator_accuracy`, `discriminator_accuracy`).
        path: the PNG file to write.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = history["step"]
    figure, axes = plt.subplots(1, len(PANELS), figsize=(10, 3.8))
    for axis, (metrics, panel_title, ylabel) in zip(axes, PANELS):
        for metric in metrics:
            if history.get(metric):
                label = metric.replace("_", " ")
                axis.plot(steps, history[metric], marker=".", label=label)
        if panel_title == "Loss":
            axis.set_yscale("log")
        axis.set_title(panel_title)
        axis.set_xlabel("pre-training step")
        axis.set_ylabel(ylabel)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
