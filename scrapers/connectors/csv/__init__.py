from scrapers.connectors.csv.connector import CsvConnector

__all__ = ["CsvConnector"]
