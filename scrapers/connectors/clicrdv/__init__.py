from scrapers.connectors.clicrdv.config import Config
from scrapers.connectors.clicrdv.connector import ClicRdvConnector

__all__ = ["ClicRdvConnector", "Config"]
