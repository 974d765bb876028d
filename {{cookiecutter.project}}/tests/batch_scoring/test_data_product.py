from datetime import datetime

import numpy as np

from {{ cookiecutter.__package }}.batch_scoring.data_product import DEGRADATION, DEGRADATION_HOURS, SENSOR_BASELINE, Simulation
from {{ cookiecutter.__package }}.batch_scoring.settings import DateRange


def simulation(seed: int = 7, corrupt: float = 0.0) -> Simulation:
    return Simulation(seed, 5, DateRange(datetime(2015, 1, 1), datetime(2015, 4, 1)), 1500, corrupt)


def test_same_seed_same_data_other_seed_other_data():
    first, again, other = simulation(7).telemetry(3), simulation(7).telemetry(3), simulation(8).telemetry(3)
    assert first.equals(again)
    assert not first["volt"].equals(other["volt"])
    assert simulation(7).timeline(3) == simulation(7).timeline(3)


def test_machines_do_not_depend_on_each_other():
    # Machine 3's data must not change when the fleet grows: partitioning-independent.
    small = simulation(7).telemetry(3)
    large = Simulation(7, 500, simulation(7).span, 1500, 0.0).telemetry(3)
    assert small.equals(large)


def test_sensor_drifts_before_each_failure():
    sim = simulation()
    for machine_id in range(1, 6):
        telemetry = sim.telemetry(machine_id)
        failures, _ = sim.timeline(machine_id)
        for hour, component in failures:
            if hour < DEGRADATION_HOURS:
                continue
            sensor, shift = DEGRADATION[component]
            before = telemetry[sensor].iloc[hour - 12 : hour].mean()
            baseline = SENSOR_BASELINE[sensor][0]
            assert np.sign(before - baseline) == np.sign(shift), (machine_id, hour, component)


def test_failed_components_are_replaced_and_history_precedes_the_data():
    failures, maintenance = simulation().timeline(2)
    assert set(failures) <= set(maintenance)
    assert min(hour for hour, _ in maintenance) < 0


def test_corruption_rate_is_close_to_the_setting():
    corrupt = simulation(corrupt=0.05).telemetry(1)["corruption"]
    assert 0.03 < (corrupt > 0).mean() < 0.07
    assert (simulation().telemetry(1)["corruption"] == 0).all()


def test_generate_writes_every_entity_with_the_promised_counts(generated, ingested):
    """What ingest read from the landing files over the whole range is what generation reported
    writing, plus the rows the tests planted (batch_scoring/conftest.py)."""
    from batch_scoring.conftest import PLANTED_ROWS

    (settings, written), (_, read) = generated, ingested
    spec = settings.size_spec
    assert written["telemetry"] == spec.machines * int((spec.end - spec.start).total_seconds() // 3600)
    ingest_range = settings.ranges()["ingest"]
    assert ingest_range.start <= spec.start and ingest_range.end >= spec.end, "ingest reads every landing day"
    assert {entity: counts.read for entity, counts in read.items()} == {**written, "telemetry": written["telemetry"] + len(PLANTED_ROWS)}
