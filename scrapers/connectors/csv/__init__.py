from scrapers.connectors.csv.config import Config
from scrapers.connectors.csv.connector import CsvConnector

__all__ = ["Config", "CsvConnector"]
