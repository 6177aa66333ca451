"""cnn-train --engine keras: a session's run trained through Keras and TensorFlow inside a
tf.distribute strategy, yielding the same records as Session.run, so that the CLI prints the same
lines and a RunRecorder writes the same run folder (checkpoints in our weights format).

What is the same as the numpy engine: the network and its initial weights (ours, exported), the
loss (cnn.losses, written in TensorFlow), each epoch's order and shifts (drawn from (seed, epoch)
by the numpy engine's own code), batches (the last one may be smaller), and SGD with momentum
v = μ v − η_e g, θ += v at the epoch's rate η_e, or Adam (cnn.adam's rule, in its order of
operations, its step count going on over the run). Each step's gradient is averaged over the global
batch: every replica adds its samples' losses divided by the whole batch's size, and the
replicas' gradients are summed (strategy.reduce) before the one update.

Strides, padding and average pooling go across; Dropout and BatchNorm do not (Keras draws other
masks, and its moving variance is the batch's biased one, ours the unbiased): such a network is
refused in one line naming those layers.
"""
from __future__ import annotations

import math
import os
import time
from types import MappingProxyType

import numpy as np

from ..batchnorm import BatchNorm
from ..dropout import Dropout
from ..session import Session
from ..evaluation import evaluate
from ..train import EpochRecord, StepRecord, TrainingDiverged, shifted
from . import BridgeError, cluster, keras_module, links
from .export import to_keras
from .losses import per_sample_loss

STRATEGIES = ("mirrored", "multi-worker")


MAX_REPLICAS = 64      # --replicas' upper bound


def make_strategy(kind: str = "mirrored", connect_timeout: float = cluster.CONNECT_TIMEOUT,
                  replicas: int | None = None):
    """MirroredStrategy over the local GPUs, or every logical CPU device when there is none (with
    `replicas`: the first `replicas` GPUs, or the CPU split into that many logical devices, so that
    each batch is really split); or MultiWorkerMirroredStrategy from TF_CONFIG, checked first, once
    every other worker answers (cluster.Unreachable naming those that do not within `connect_timeout`
    seconds)."""
    if replicas is not None and (kind != "mirrored" or type(replicas) is not int or not 1 <= replicas <= MAX_REPLICAS):
        raise BridgeError(f"--replicas {replicas}: a whole number from 1 to {MAX_REPLICAS}, with --distribute mirrored "
                          "(the default)")
    if kind == "multi-worker":
        if not os.environ.get("TF_CONFIG"):
            raise BridgeError("--distribute multi-worker needs TF_CONFIG: the cluster's workers and this one's index "
                              "(see the README)")
        tasks = cluster.read_tf_config(os.environ["TF_CONFIG"])
        keras_module()
        cluster.wait_for_peers(tasks, connect_timeout)
        import tensorflow as tf
        return tf.distribute.MultiWorkerMirroredStrategy()
    keras_module()
    import tensorflow as tf
    if kind != "mirrored":
        raise BridgeError(f"--distribute must be one of {STRATEGIES}, not {kind!r}")
    if replicas is not None and not tf.config.list_physical_devices("GPU"):
        _split_cpu(tf, replicas)
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        if replicas is not None and replicas > len(gpus):
            raise BridgeError(f"--replicas {replicas}: this machine has {len(gpus)} GPU{'s' * (len(gpus) > 1)}")
        return tf.distribute.MirroredStrategy([d.name for d in gpus[:replicas]])
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    return tf.distribute.MirroredStrategy(cpus, cross_device_ops=tf.distribute.ReductionToOneDevice())


def _split_cpu(tf, replicas: int) -> None:
    """The CPU as `replicas` logical devices (possible once a process, before TensorFlow makes its devices)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * replicas)
    except RuntimeError:   # the devices exist already (an earlier run in this process): fine if they match
        made = len(tf.config.list_logical_devices("CPU"))
        if made != replicas:
            raise BridgeError(f"--replicas {replicas}: TensorFlow made {made} CPU device{'s' * (made > 1)} already "
                              "in this process; start a new one") from None


def describe(strategy) -> dict:
    """What run.json records of the training: the engine, its replicas (in all) and its workers."""
    resolver = getattr(strategy, "cluster_resolver", None)
    spec = resolver.cluster_spec().as_dict() if resolver is not None else {}
    workers = sum(len(spec.get(role, ())) for role in cluster.ROLES) or 1
    return {"engine": "keras", "replicas": int(strategy.num_replicas_in_sync), "workers": workers}


def is_chief(strategy) -> bool:
    """Whether this process writes (records, saves): always, except a non-chief multi-worker task."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    kind, index = resolver.task_type, resolver.task_id
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return kind == "chief" or (not has_chief and kind == "worker" and index == 0)


class KerasTrainer:
    """The session's network as a Keras model under `strategy`, with one velocity per parameter."""

    def __init__(self, session: Session, strategy):
        import tensorflow as tf
        self.session, self.strategy, self.tf = session, strategy, tf
        self.optimizer = optimizer = session.optimizer
        self.adam = optimizer.kind == "adam"
        with strategy.scope():
            self.model, self.links = to_keras(session.network)
            if self.adam:
                self.moments = (self._slots(optimizer.first_moment, "m"), self._slots(optimizer.second_moment, "v"))
            else:
                self.velocities = self._slots(optimizer.velocity, "velocity")
        self.variables = [link.variable for link in self.links]
        self.per_sample = per_sample_loss(session.loss.name)
        self._gradients = tf.function(self._gradients_step)
        self._update = tf.function(self._adam_step if self.adam else self._update_step)

    def _slots(self, state: dict, kind: str) -> list:
        """One optimizer variable per parameter, in the Keras layout, from the optimizer's state (or zeros)."""
        return [self.tf.Variable(link.to_keras(state[link.name]) if link.name in state
                                 else np.zeros(link.variable.shape, self.session.network.dtype), trainable=False,
                                 name=f"{kind}_{link.name}") for link in self.links]

    def _replica(self, x, y, size):
        tf = self.tf
        with tf.GradientTape() as tape:
            output = self.model(x, training=True)
            loss = tf.cast(tf.reduce_sum(self.per_sample(y, output)), tf.float64) / size
        gradients = tape.gradient(loss, self.variables)
        return loss, gradients

    def _gradients_step(self, batch, size):
        """The global batch's loss and its gradient (the replicas' parts summed), and each gradient's norm."""
        tf, strategy = self.tf, self.strategy
        x, y = batch
        loss, gradients = strategy.run(self._replica, args=(x, y, size))
        loss = strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
        gradients = [strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None) for g in gradients]
        return loss, gradients, tf.stack([tf.cast(tf.norm(g), tf.float64) for g in gradients])

    def _update_step(self, gradients, rate, momentum, unused=None):
        for variable, velocity, gradient in zip(self.variables, self.velocities, gradients, strict=True):
            velocity.assign(tf_cast(momentum, velocity) * velocity - tf_cast(rate, velocity) * gradient)
            variable.assign_add(velocity)

    def _adam_step(self, gradients, rate, correction1, correction2):
        """cnn.adam.Adam's step, in its order of operations: m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g²,
        θ += −η (m / c₁) / (√(v / c₂) + ε), c = 1 − βᵗ."""
        b1, b2, eps = self.optimizer.beta1, self.optimizer.beta2, self.optimizer.eps
        for variable, m, v, g in zip(self.variables, *self.moments, gradients, strict=True):
            m.assign(tf_cast(b1, m) * m + tf_cast(1.0 - b1, m) * g)
            v.assign(tf_cast(b2, v) * v + tf_cast(1.0 - b2, v) * self.tf.square(g))
            change = (m / tf_cast(correction1, m)) / (self.tf.sqrt(v / tf_cast(correction2, v)) + tf_cast(eps, v))
            variable.assign_add(change * tf_cast(-rate, variable))

    def step(self, gradients, rate: float) -> None:
        """One update of every parameter with the optimizer's rule (Adam's step count t goes on by one)."""
        tf, optimizer = self.tf, self.optimizer
        if self.adam:
            optimizer.steps += 1
            t = optimizer.steps
            arguments = (1.0 - optimizer.beta1 ** t, 1.0 - optimizer.beta2 ** t)
        else:
            arguments = (optimizer.momentum, 0.0)
        self._update(gradients, *(tf.constant(value, tf.float64) for value in (rate, *arguments)))

    def pull(self) -> None:
        """The session's network and optimizer take the Keras weights and velocities (or Adam's moments)."""
        self.session.network.set_params(links.keras_values(self.links))
        if self.adam:
            first, second = ([v.numpy() for v in slots] for slots in self.moments)
            self.optimizer.first_moment = links.ours(self.links, first)
            self.optimizer.second_moment = links.ours(self.links, second)
        elif self.optimizer.momentum:
            self.optimizer.velocity = links.ours(self.links, [v.numpy() for v in self.velocities])

    def epoch_batches(self, epoch: int):
        """(x, y, size) per step, exactly as the numpy engine draws them for (seed, epoch), channels last."""
        session = self.session
        x, y, batch_size = session.dataset.train.x, session.dataset.train.y, session.config.batch_size
        rng = np.random.default_rng([session.config.seed, epoch])
        order = rng.permutation(len(x)) if session.config.reshuffle else None
        for start in range(0, len(x), batch_size):
            batch = slice(start, start + batch_size)
            xb, yb = (x[batch], y[batch]) if order is None else (x[order[batch]], y[order[batch]])
            if session.config.shift:
                xb = shifted(xb, session.config.shift, rng)
            yield np.ascontiguousarray(np.transpose(xb, (0, 2, 3, 1))), yb, len(xb)

    def dataset(self, epoch: int):
        tf = self.tf
        images, targets, sizes = zip(*self.epoch_batches(epoch), strict=True)
        data = tf.data.Dataset.from_tensor_slices((np.concatenate(images), np.concatenate(targets)))
        data = data.batch(self.session.config.batch_size)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return self.strategy.experimental_distribute_dataset(data.with_options(options)), sizes


def tf_cast(value, variable):
    """`value` in the variable's dtype; a Python float straight to it (tf.cast would pass it through float32)."""
    import tensorflow as tf
    return tf.cast(value, variable.dtype) if tf.is_tensor(value) else tf.constant(value, variable.dtype)


def keras_run(session: Session, epochs: int, strategy):
    """Session.run's records, trained through Keras under `strategy`; at every epoch's end the
    session's network and optimizer hold the trained weights and velocities (for the printed test
    results, the checkpoints and --save). TensorFlow's own failures (a worker of the cluster gone,
    a device out of memory) become one BridgeError line."""
    import tensorflow as tf
    try:
        yield from _keras_records(session, epochs, strategy)
    except tf.errors.OpError as error:
        first = str(error.message or error).strip().splitlines()
        raise BridgeError(f"TensorFlow stopped the run at epoch {session.epochs_done + 1}: "
                          f"{type(error).__name__}: {(first[0] if first else '')[:300]}") from None


def _keras_records(session: Session, epochs: int, strategy):
    if session.config.weight_decay:
        raise ValueError("--engine keras trains without weight decay; use --engine numpy for --weight-decay")
    random = [f"{index} ({type(layer).__name__})" for index, layer in enumerate(session.network.layers)
              if isinstance(layer, (Dropout, BatchNorm))]
    if random:
        raise ValueError(f"--engine keras repeats the numpy engine's steps, which layer{'s' * (len(random) > 1)} "
                         f"{', '.join(random)} would not (dropout's masks, batch normalization's running "
                         "variance); use --engine numpy")
    if strategy.num_replicas_in_sync > session.config.batch_size:
        raise ValueError(f"--replicas: {strategy.num_replicas_in_sync} replicas split a batch of "
                         f"{session.config.batch_size}: each needs at least one sample; raise --batch-size")
    if session.progress.step:
        raise ValueError(f"--engine keras goes on from an epoch's end; this run stopped at epoch "
                         f"{session.epochs_done + 1}, step {session.progress.step}: continue it with --engine numpy")
    trainer = KerasTrainer(session, strategy)
    names = [link.name for link in trainer.links]
    optimizer, first = session.optimizer, session.epochs_done + 1
    steps_per_epoch = math.ceil(len(session.dataset.train.x) / session.config.batch_size)
    global_step = (first - 1) * steps_per_epoch
    for epoch in range(first, first + epochs):
        optimizer.start_epoch(epoch)
        rate = optimizer.current_learning_rate
        data, sizes = trainer.dataset(epoch)
        started, loss_sum = time.perf_counter(), 0.0
        for step, (batch, size) in enumerate(zip(data, sizes, strict=True), 1):
            global_step += 1
            loss, gradients, norms = trainer._gradients(batch, trainer.tf.constant(size, trainer.tf.float64))
            loss = float(loss)
            norms = dict(zip(names, norms.numpy().tolist(), strict=True))
            bad = [name for name, norm in norms.items() if not math.isfinite(norm)]
            if not math.isfinite(loss) or bad:
                trainer.pull()
                raise TrainingDiverged(epoch, step, global_step, f"the loss is {loss}" if not math.isfinite(loss)
                                       else f"the gradient of {', '.join(bad)} is not finite")
            trainer.step(gradients, rate)
            loss_sum += loss * size
            yield StepRecord(epoch, step, steps_per_epoch, global_step, size, loss, MappingProxyType(norms))
        seconds = time.perf_counter() - started
        trainer.pull()
        session.epochs_done = epoch
        test = evaluate(session.network, session.dataset.test, session.loss)
        test.predictions.flags.writeable = False
        yield EpochRecord(epoch, first + epochs - 1, loss_sum / len(session.dataset.train.x), test.loss,
                          test.accuracy, seconds, test.predictions)
