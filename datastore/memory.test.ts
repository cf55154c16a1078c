import { describeDatastoreContract } from '../test/datastore-contract.js';
import { memoryDatastore } from './memory.js';

describeDatastoreContract('memory', async () => memoryDatastore());
