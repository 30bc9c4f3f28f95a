package broker

// Dependencies the broker's files use (kept here while they are written).
import (
)
