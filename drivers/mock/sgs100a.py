"""A Rohde & Schwarz SGS100A emulation for QCoDeS' own ``RohdeSchwarzSGS100A`` driver.

The virtual lab reads the frequency, power and RF output state from here to drive the physics device, so an
LO left off, detuned or out of range shows in the data exactly as on the bench. Settings outside the
instrument's range are refused with ``-222,"Data out of range"``, as the instrument does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qubitlab.drivers.mock.scpi import ScpiInstrument

FREQUENCY_RANGE = (1.0e6, 12.75e9)
POWER_RANGE = (-120.0, 25.0)


@dataclass
class Sgs100aEmulation(ScpiInstrument):
    idn: str = "Rohde&Schwarz,SGS100A,1416.0505k02/000000,4.2.76.0-4.30.046.295"
    settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        c = self.commands
        s = self.settings
        c.setting("SOURce:FREQuency", s, "1000000000.0", lambda call: repr(call.number(*FREQUENCY_RANGE)))
        c.setting("SOURce:POWer", s, "-30.0", lambda call: repr(call.number(*POWER_RANGE)))
        c.setting("SOURce:PHASe", s, "0.0", lambda call: repr(call.number(-359.9, 359.9)))
        c.setting("OUTPut:STATe", s, "0", lambda call: "1" if call.boolean() else "0")
        for pattern, default in (
            ("IQ:STATe", "0"), ("SOURce:IQ:IMPairment:STATe", "0"), ("SOURce:IQ:IMPairment:LEAKage:I", "0.00"),
            ("SOURce:IQ:IMPairment:LEAKage:Q", "0.00"), ("SOURce:IQ:IMPairment:IQRatio", "0.00"),
            ("SOURce:IQ:IMPairment:QUADrature", "0.00"), ("SOURce:PULM:STATe", "0"), ("SOURce:PULM:SOURce", "EXT"),
            ("SOURce:ROSCillator:SOURce", "INT"), ("SOURce:LOSCillator:SOURce", "INT"),
            ("CONNector:REFLo:OUTPut", "OFF"), ("SOURce:ROSCillator:OUTPut:FREQuency", "10MHZ"),
            ("SOURce:ROSCillator:EXTernal:FREQuency", "10MHZ"), ("CONNector:TRIGger:OMODe", "SVAL"),
            ("SOURce:PULM:DELay", "0"), ("SOURce:PULM:DOUBle:DELay", "0"), ("SOURce:PULM:DOUBle:WIDTh", "0"),
            ("SOURce:PULM:MODE", "SING"), ("SOURce:PULM:PERiod", "1e-3"), ("SOURce:PULM:POLarity", "NORM"),
            ("SOURce:PULM:TRIGger:EXTernal:GATE:POLarity", "NORM"), ("SOURce:PULM:TRIGger:EXTernal:IMPedance", "G50"),
            ("SOURce:PULM:TRIGger:EXTernal:SLOPe", "POS"), ("SOURce:PULM:TRIGger:MODE", "AUTO"),
            ("SOURce:PULM:WIDTh", "1e-6"), ("SOURce:OPMode", "NORM"),
        ):
            c.setting(pattern, s, default)

    def reset(self) -> None:
        self.settings.clear()

    @property
    def frequency(self) -> float:
        return float(self.settings.get("SOURce:FREQuency", "1000000000.0"))

    @property
    def power(self) -> float:
        return float(self.settings.get("SOURce:POWer", "-30.0"))

    @property
    def output(self) -> bool:
        return self.settings.get("OUTPut:STATe", "0") == "1"

