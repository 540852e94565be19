// The Azure regions Mimic lists: `GET /subscriptions/{id}/locations` and the `locations` of each
// provider resource type. Mimic places resources anywhere; the list is what clients read to
// validate or display a location.

export interface Region {
  name: string;
  displayName: string;
  geographyGroup: string;
  latitude: string;
  longitude: string;
  physicalLocation: string;
  pairedRegion: string;
}

export const REGIONS: readonly Region[] = [
  { name: 'eastus', displayName: 'East US', geographyGroup: 'US', latitude: '37.3719', longitude: '-79.8164', physicalLocation: 'Virginia', pairedRegion: 'westus' },
  { name: 'eastus2', displayName: 'East US 2', geographyGroup: 'US', latitude: '36.6681', longitude: '-78.3889', physicalLocation: 'Virginia', pairedRegion: 'centralus' },
  { name: 'westus', displayName: 'West US', geographyGroup: 'US', latitude: '37.783', longitude: '-122.417', physicalLocation: 'California', pairedRegion: 'eastus' },
  { name: 'westus2', displayName: 'West US 2', geographyGroup: 'US', latitude: '47.233', longitude: '-119.852', physicalLocation: 'Washington', pairedRegion: 'westcentralus' },
  { name: 'westus3', displayName: 'West US 3', geographyGroup: 'US', latitude: '33.448376', longitude: '-112.074036', physicalLocation: 'Phoenix', pairedRegion: 'eastus' },
  { name: 'centralus', displayName: 'Central US', geographyGroup: 'US', latitude: '41.5908', longitude: '-93.6208', physicalLocation: 'Iowa', pairedRegion: 'eastus2' },
  { name: 'westcentralus', displayName: 'West Central US', geographyGroup: 'US', latitude: '40.890', longitude: '-110.234', physicalLocation: 'Wyoming', pairedRegion: 'westus2' },
  { name: 'northeurope', displayName: 'North Europe', geographyGroup: 'Europe', latitude: '53.3478', longitude: '-6.2597', physicalLocation: 'Ireland', pairedRegion: 'westeurope' },
  { name: 'westeurope', displayName: 'West Europe', geographyGroup: 'Europe', latitude: '52.3667', longitude: '4.9', physicalLocation: 'Netherlands', pairedRegion: 'northeurope' },
  { name: 'uksouth', displayName: 'UK South', geographyGroup: 'Europe', latitude: '50.941', longitude: '-0.799', physicalLocation: 'London', pairedRegion: 'ukwest' },
  { name: 'ukwest', displayName: 'UK West', geographyGroup: 'Europe', latitude: '53.427', longitude: '-3.084', physicalLocation: 'Cardiff', pairedRegion: 'uksouth' },
  { name: 'germanywestcentral', displayName: 'Germany West Central', geographyGroup: 'Europe', latitude: '50.110924', longitude: '8.682127', physicalLocation: 'Frankfurt', pairedRegion: 'germanynorth' },
  { name: 'francecentral', displayName: 'France Central', geographyGroup: 'Europe', latitude: '46.3772', longitude: '2.3730', physicalLocation: 'Paris', pairedRegion: 'francesouth' },
  { name: 'swedencentral', displayName: 'Sweden Central', geographyGroup: 'Europe', latitude: '60.67488', longitude: '17.14127', physicalLocation: 'Gävle', pairedRegion: 'swedensouth' },
  { name: 'japaneast', displayName: 'Japan East', geographyGroup: 'Asia Pacific', latitude: '35.68', longitude: '139.77', physicalLocation: 'Tokyo, Saitama', pairedRegion: 'japanwest' },
  { name: 'southeastasia', displayName: 'Southeast Asia', geographyGroup: 'Asia Pacific', latitude: '1.283', longitude: '103.833', physicalLocation: 'Singapore', pairedRegion: 'eastasia' },
  { name: 'australiaeast', displayName: 'Australia East', geographyGroup: 'Asia Pacific', latitude: '-33.86', longitude: '151.2094', physicalLocation: 'New South Wales', pairedRegion: 'australiasoutheast' },
  { name: 'canadacentral', displayName: 'Canada Central', geographyGroup: 'Canada', latitude: '43.653', longitude: '-79.383', physicalLocation: 'Toronto', pairedRegion: 'canadaeast' },
  { name: 'brazilsouth', displayName: 'Brazil South', geographyGroup: 'South America', latitude: '-23.55', longitude: '-46.633', physicalLocation: 'Sao Paulo State', pairedRegion: 'southcentralus' },
];

/** The location a GRS account replicates to (Azure's paired region). */
export function pairedRegion(location: string): string | undefined {
  return REGIONS.find((r) => r.name === location)?.pairedRegion;
}

/** `GET /subscriptions/{id}/locations`: Azure's Location shape. */
export function locationViews(subscriptionId: string): Record<string, unknown>[] {
  return REGIONS.map((r) => ({
    id: `/subscriptions/${subscriptionId}/locations/${r.name}`,
    name: r.name,
    type: 'Region',
    displayName: r.displayName,
    regionalDisplayName: `(${r.geographyGroup}) ${r.displayName}`,
    metadata: {
      regionType: 'Physical',
      regionCategory: 'Recommended',
      geography: r.geographyGroup,
      geographyGroup: r.geographyGroup,
      longitude: r.longitude,
      latitude: r.latitude,
      physicalLocation: r.physicalLocation,
      pairedRegion: [{ name: r.pairedRegion, id: `/subscriptions/${subscriptionId}/locations/${r.pairedRegion}` }],
    },
    availabilityZoneMappings: ['1', '2', '3'].map((zone) => ({ logicalZone: zone, physicalZone: `${r.name}-az${zone}` })),
  }));
}
